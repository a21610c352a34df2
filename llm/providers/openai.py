"""The OpenAI chat-completions API (``POST {base}/chat/completions``), which OpenAI,
Mistral, vLLM, Ollama and LM Studio all serve."""

from __future__ import annotations

from typing import Any

from llm.config import ProviderConfig
from llm.errors import Usage
from llm.providers.base import Completion, Provider, as_int


class OpenAIProvider(Provider):
    name = "openai"

    def build(self, config: ProviderConfig, *, system, prompt, max_tokens, schema):
        url = f"{config.base_url}/chat/completions"
        messages = [{"role": "system", "content": system}] if system else []
        messages.append({"role": "user", "content": prompt})
        payload: dict[str, Any] = {
            "model": config.model,
            "messages": messages,
            "temperature": config.temperature,
        }
        # OpenAI's own API has renamed the limit; other servers know the first name.
        limit = "max_completion_tokens" if "api.openai.com" in config.base_url else "max_tokens"
        payload[limit] = max_tokens
        if schema is not None and config.json_mode == "json_object":
            payload["response_format"] = {"type": "json_object"}
        elif schema is not None and config.json_mode == "json_schema":
            payload["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": schema, "strict": False},
            }
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        return url, headers, payload

    def error_detail(self, data: Any) -> str:
        if isinstance(data, dict):
            error = data.get("error")
            if isinstance(error, dict):
                return str(error.get("message") or error.get("code") or "")[:300]
            if isinstance(error, str):  # Ollama, some vLLM versions
                return error[:300]
            if data.get("message"):  # Mistral
                return str(data["message"])[:300]
        return super().error_detail(data)

    def parse(self, config: ProviderConfig, data: Any, max_tokens: int) -> Completion:
        if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
            raise self.bad_response("no “choices” list")
        if not data["choices"] or not isinstance(data["choices"][0], dict):
            raise self.bad_response("empty “choices”")
        choice = data["choices"][0]
        message = choice.get("message") or {}
        usage = data.get("usage") or {}
        tokens_in = as_int(usage.get("prompt_tokens"))
        tokens_out = as_int(usage.get("completion_tokens"))
        raw = Usage(tokens_in, tokens_out)
        refusal = message.get("refusal")
        finish = str(choice.get("finish_reason") or "")
        if refusal:
            raise self.refusal(str(refusal)[:300], raw)
        if finish == "content_filter":
            raise self.refusal("content_filter", raw)
        if finish == "length":
            raise self.too_long(max_tokens, raw)
        content = message.get("content")
        if isinstance(content, list):  # content parts
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        if not isinstance(content, str):
            raise self.bad_response("no message content")
        return Completion(
            content, tokens_in, tokens_out, str(data.get("model") or config.model), finish
        )
