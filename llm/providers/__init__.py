"""The two wire protocols, behind one interface (``Provider``)."""

from __future__ import annotations

from llm.providers.anthropic import AnthropicProvider
from llm.providers.base import Completion, Provider
from llm.providers.openai import OpenAIProvider

_PROVIDERS: dict[str, type[Provider]] = {
    "anthropic": AnthropicProvider,
    "openai": OpenAIProvider,
}


def get_provider(name: str) -> Provider:
    return _PROVIDERS[name]()


__all__ = ["Completion", "Provider", "get_provider"]
