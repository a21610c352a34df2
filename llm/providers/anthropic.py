"""Anthropic's Messages API (``POST /v1/messages``)."""

from __future__ import annotations

from typing import Any

from llm import errors
from llm.config import ProviderConfig
from llm.providers.base import Completion, Provider, as_int

API_VERSION = "2023-06-01"


class AnthropicProvider(Provider):
    name = "anthropic"

    def build(self, config: ProviderConfig, *, system, prompt, max_tokens, schema):
        base = config.base_url
        url = f"{base}/messages" if base.endswith("/v1") else f"{base}/v1/messages"
        payload: dict[str, Any] = {
            "model": config.model,
            "max_tokens": max_tokens,
            "temperature": config.temperature,
            "messages": [{"role": "user", "content": prompt}],
        }
        if system:
            payload["system"] = system
        headers = {"x-api-key": config.api_key, "anthropic-version": API_VERSION}
        return url, headers, payload

    def error_detail(self, data: Any) -> str:
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            return str(data["error"].get("message") or data["error"].get("type") or "")[:300]
        return super().error_detail(data)

    def error(self, response):
        if response.status == 529:  # "overloaded_error"
            return errors.LLMUnavailable(super().error(response).args[0], status=response.status)
        return super().error(response)

    def parse(self, config: ProviderConfig, data: Any, max_tokens: int) -> Completion:
        if not isinstance(data, dict) or not isinstance(data.get("content"), list):
            raise self.bad_response("no “content” list")
        usage = data.get("usage") or {}
        tokens_in = (
            as_int(usage.get("input_tokens"))
            + as_int(usage.get("cache_read_input_tokens"))
            + as_int(usage.get("cache_creation_input_tokens"))
        )
        tokens_out = as_int(usage.get("output_tokens"))
        text = "".join(
            part.get("text", "")
            for part in data["content"]
            if isinstance(part, dict) and part.get("type") == "text"
        )
        stop = str(data.get("stop_reason") or "")
        model = str(data.get("model") or config.model)
        raw = errors.Usage(tokens_in, tokens_out)
        if stop == "refusal":
            raise self.refusal(text.strip()[:300], raw)
        if stop == "max_tokens":
            raise self.too_long(max_tokens, raw)
        return Completion(text, tokens_in, tokens_out, model, stop)
