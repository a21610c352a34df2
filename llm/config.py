"""Which provider and model to call, with which limits: read from the ``LLM_*`` settings.

``ProviderConfig.from_settings()`` is what every feature uses; a feature that needs
another model or limit passes overrides (``from_settings(model="…", max_output_tokens=…)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from llm import errors
from llm.prices import PriceTableError, price_table

ANTHROPIC = "anthropic"
OPENAI = "openai"  # any OpenAI-compatible chat API: OpenAI, Mistral, vLLM, Ollama, LM Studio
PROVIDERS = (ANTHROPIC, OPENAI)

DEFAULT_BASE_URLS = {
    ANTHROPIC: "https://api.anthropic.com",
    OPENAI: "https://api.openai.com/v1",
}
DEFAULT_MODELS = {
    ANTHROPIC: "claude-sonnet-4-20250514",
    OPENAI: "gpt-4o-mini",
}
#: Hosts whose API always needs a key; a self-hosted server (vLLM, Ollama) may not.
KEYED_HOSTS = ("api.anthropic.com", "api.openai.com", "api.mistral.ai")

JSON_MODES = ("json_object", "json_schema", "none")


@dataclass(frozen=True)
class ProviderConfig:
    provider: str
    model: str
    base_url: str
    api_key: str = field(default="", repr=False)
    timeout_seconds: float = 120.0
    max_retries: int = 2
    retry_backoff_seconds: float = 2.0
    max_output_tokens: int = 4096
    temperature: float = 0.0
    #: How an OpenAI-compatible server is asked for JSON (``response_format``).
    json_mode: str = "json_object"
    prices: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_settings(cls, **overrides: Any) -> ProviderConfig:
        """The configured provider; raises ``LLMNotConfigured`` when there is none and
        ``LLMError`` for a setting that cannot work (unknown provider, missing key)."""
        provider = (overrides.pop("provider", None) or settings.LLM_PROVIDER or "").strip().lower()
        if not provider or provider == "none":
            raise errors.not_configured()
        if provider not in PROVIDERS:
            raise errors.LLMNotConfigured(
                _("Unknown LLM_PROVIDER “%(provider)s”: use anthropic or openai.")
                % {"provider": provider}
            )
        try:
            prices = price_table(settings.LLM_PRICES)
        except PriceTableError as exc:
            raise errors.LLMNotConfigured(str(exc)) from None
        config = cls(
            provider=provider,
            model=settings.LLM_MODEL or DEFAULT_MODELS[provider],
            base_url=(settings.LLM_BASE_URL or DEFAULT_BASE_URLS[provider]).rstrip("/"),
            api_key=settings.LLM_API_KEY,
            timeout_seconds=settings.LLM_TIMEOUT_SECONDS,
            max_retries=settings.LLM_MAX_RETRIES,
            retry_backoff_seconds=settings.LLM_RETRY_BACKOFF_SECONDS,
            max_output_tokens=settings.LLM_MAX_OUTPUT_TOKENS,
            temperature=settings.LLM_TEMPERATURE,
            json_mode=settings.LLM_JSON_MODE,
            prices=prices,
        )
        config = replace(config, **overrides) if overrides else config
        config.check()
        return config

    def check(self) -> None:
        if self.json_mode not in JSON_MODES:
            raise errors.LLMNotConfigured(
                _("Unknown LLM_JSON_MODE “%(mode)s”: use json_object, json_schema or none.")
                % {"mode": self.json_mode}
            )
        if not self.base_url.startswith(("http://", "https://")):
            raise errors.LLMNotConfigured(
                _("LLM_BASE_URL must start with http:// or https:// (“%(url)s”).")
                % {"url": self.base_url}
            )
        if self.timeout_seconds <= 0 or self.max_retries < 0 or self.max_output_tokens < 1:
            raise errors.LLMNotConfigured(
                _(
                    "LLM_TIMEOUT_SECONDS and LLM_MAX_OUTPUT_TOKENS must be positive, LLM_MAX_RETRIES at least 0."
                )
            )
        if not self.api_key and (
            self.provider == ANTHROPIC or any(host in self.base_url for host in KEYED_HOSTS)
        ):
            raise errors.missing_key(self.provider)
