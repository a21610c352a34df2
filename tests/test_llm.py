"""The language model provider layer (``llm``) against fake servers on 127.0.0.1:
both wire protocols, configuration from the settings, retries with backoff, the French
errors users see, costs from the price table, JSON answers checked against a schema."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.utils import translation

from llm import errors
from llm.client import LLMClient
from llm.config import ProviderConfig
from llm.prices import cost, price_table
from tests.fake_llm import (
    FakeLLMServer,
    Reply,
    anthropic_error,
    anthropic_message,
    openai_completion,
    openai_error,
)

SCHEMA = {
    "type": "object",
    "required": ["criteria"],
    "properties": {
        "criteria": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "weight"],
                "properties": {"name": {"type": "string"}, "weight": {"type": ["number", "null"]}},
            },
        }
    },
}


@pytest.fixture
def server():
    with FakeLLMServer() as fake:
        yield fake


@pytest.fixture(autouse=True)
def _french():
    with translation.override("fr"):
        yield


def configure(settings, server, provider="anthropic", **extra):
    settings.LLM_PROVIDER = provider
    settings.LLM_BASE_URL = server.url + ("/v1" if provider == "openai" else "")
    settings.LLM_API_KEY = "sk-test-key"
    settings.LLM_MODEL = extra.pop("model", "")
    settings.LLM_RETRY_BACKOFF_SECONDS = 0.5
    settings.LLM_TIMEOUT_SECONDS = extra.pop("timeout", 5)
    for key, value in extra.items():
        setattr(settings, f"LLM_{key.upper()}", value)


def client_and_sleeps(observer=None):
    sleeps: list[float] = []
    client = LLMClient(ProviderConfig.from_settings(), observer=observer, sleep=sleeps.append)
    return client, sleeps


# --- configuration ------------------------------------------------------------------------


def test_nothing_configured_is_a_clear_french_error(settings):
    settings.LLM_PROVIDER = ""
    with pytest.raises(errors.LLMNotConfigured, match="Aucun modèle de langage"):
        ProviderConfig.from_settings()


def test_unknown_provider_is_refused(settings):
    settings.LLM_PROVIDER = "watson"
    with pytest.raises(errors.LLMNotConfigured, match="watson"):
        ProviderConfig.from_settings()


def test_missing_key_for_a_public_api_is_refused(settings):
    settings.LLM_PROVIDER = "anthropic"
    settings.LLM_API_KEY = ""
    settings.LLM_BASE_URL = ""
    with pytest.raises(errors.LLMAuthError, match="LLM_API_KEY"):
        ProviderConfig.from_settings()


def test_a_self_hosted_openai_compatible_server_needs_no_key(settings, server):
    configure(settings, server, "openai", model="llama3.1:8b")
    settings.LLM_API_KEY = ""
    server.reply(openai_completion("Bonjour", model="llama3.1:8b"))
    client, _ = client_and_sleeps()
    assert client.complete("Salut").text == "Bonjour"
    assert "authorization" not in server.received[0].headers


def test_defaults_per_provider(settings):
    settings.LLM_PROVIDER = "openai"
    settings.LLM_API_KEY = "sk-secret-123"
    settings.LLM_BASE_URL = ""
    settings.LLM_MODEL = ""
    config = ProviderConfig.from_settings()
    assert (config.base_url, config.model) == ("https://api.openai.com/v1", "gpt-4o-mini")
    assert "sk-secret" not in repr(config)  # the key never shows in logs


def test_bad_price_table_is_refused(settings, server):
    configure(settings, server, prices={"x": "cheap"})
    with pytest.raises(errors.LLMNotConfigured, match="LLM_PRICES"):
        ProviderConfig.from_settings()


# --- Anthropic ------------------------------------------------------------------------------


def test_anthropic_call_returns_text_tokens_cost_model_duration(settings, server):
    configure(settings, server)
    server.reply(anthropic_message("Réponse", input_tokens=2000, output_tokens=500))
    calls = []
    client, _ = client_and_sleeps(observer=calls.append)
    result = client.complete("Question ?", system="Tu es un assistant.", purpose="test")
    assert result.text == "Réponse"
    assert (result.input_tokens, result.output_tokens) == (2000, 500)
    # claude-sonnet-4: 3 $ / 15 $ per million tokens.
    assert result.cost_usd == Decimal("0.013500")
    assert result.model == "claude-sonnet-4-20250514" and result.provider == "anthropic"
    assert result.duration_seconds > 0 and result.attempts == 1
    sent = server.received[0]
    assert sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == "sk-test-key"
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.body["system"] == "Tu es un assistant."
    assert sent.body["messages"] == [{"role": "user", "content": "Question ?"}]
    assert sent.body["max_tokens"] == settings.LLM_MAX_OUTPUT_TOKENS
    (call,) = calls
    assert call.succeeded and call.purpose == "test" and call.cost_usd == Decimal("0.013500")
    assert len(call.prompt_sha256) == 64


def test_wrong_key_is_a_french_error_and_not_retried(settings, server):
    configure(settings, server)
    server.reply(anthropic_error(401, "authentication_error", "invalid x-api-key"))
    client, sleeps = client_and_sleeps()
    with pytest.raises(errors.LLMAuthError) as caught:
        client.complete("x")
    assert "clé d’API" in str(caught.value) or "clé d'API" in str(caught.value)
    assert "invalid x-api-key" in str(caught.value)
    assert len(server.received) == 1 and sleeps == []


def test_overloaded_and_rate_limited_are_retried_with_backoff(settings, server):
    configure(settings, server)
    server.reply(
        anthropic_error(529, "overloaded_error", "Overloaded"),
        anthropic_error(429, "rate_limit_error", "slow down", **{"retry-after": "3"}),
        anthropic_message("enfin"),
    )
    client, sleeps = client_and_sleeps()
    result = client.complete("x")
    assert result.text == "enfin" and result.attempts == 3
    # 0.5 s, then 1 s doubled, raised to the provider's Retry-After of 3 s.
    assert sleeps == [0.5, 3.0]


def test_retries_stop_at_the_limit(settings, server):
    configure(settings, server, max_retries=1)
    server.reply(
        anthropic_error(500, "api_error", "boom"), anthropic_error(503, "api_error", "boom")
    )
    calls = []
    client, sleeps = client_and_sleeps(observer=calls.append)
    with pytest.raises(errors.LLMUnavailable, match="HTTP 503"):
        client.complete("x")
    assert len(server.received) == 2 and sleeps == [0.5]
    assert calls[0].error and calls[0].attempts == 2


def test_timeout_is_a_french_error(settings, server):
    configure(settings, server, timeout=0.3, max_retries=0)
    server.reply(Reply(200, {}, delay=1.5))
    client, _ = client_and_sleeps()
    with pytest.raises(errors.LLMTimeout, match=r"0\.3 s"):
        client.complete("x")


def test_unreachable_server_is_unavailable(settings):
    settings.LLM_PROVIDER = "anthropic"
    settings.LLM_API_KEY = "k"
    settings.LLM_BASE_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    settings.LLM_MAX_RETRIES = 0
    client, _ = client_and_sleeps()
    with pytest.raises(errors.LLMUnavailable, match=r"joint|atteint|injoignable"):
        client.complete("x")


def test_refusal_is_reported_with_its_tokens(settings, server):
    configure(settings, server)
    server.reply(anthropic_message("Je ne peux pas.", stop_reason="refusal", output_tokens=5))
    client, _ = client_and_sleeps()
    with pytest.raises(errors.LLMRefusal, match="refusé") as caught:
        client.complete("x")
    assert caught.value.usage.output_tokens == 5
    assert caught.value.usage.cost_usd is not None


def test_output_cut_at_the_limit_is_too_long(settings, server):
    configure(settings, server, max_output_tokens=300)
    server.reply(anthropic_message('{"criteria": [', stop_reason="max_tokens"))
    client, _ = client_and_sleeps()
    with pytest.raises(errors.LLMOutputTooLong, match="300"):
        client.complete("x")


def test_unknown_model_is_a_bad_request(settings, server):
    configure(settings, server, model="claude-inexistant")
    server.reply(anthropic_error(404, "not_found_error", "model: claude-inexistant"))
    client, sleeps = client_and_sleeps()
    with pytest.raises(errors.LLMBadRequest, match="claude-inexistant"):
        client.complete("x")
    assert sleeps == []


def test_garbage_answer_is_a_bad_response(settings, server):
    configure(settings, server, max_retries=0)
    server.reply(Reply(200, "<html>proxy</html>"))
    client, _ = client_and_sleeps()
    with pytest.raises(errors.LLMBadResponse):
        client.complete("x")


# --- OpenAI-compatible ------------------------------------------------------------------------


def test_openai_compatible_call(settings, server):
    configure(settings, server, "openai", model="mistral-small-latest")
    server.reply(
        openai_completion(
            "Salut", prompt_tokens=1_000_000, completion_tokens=0, model="mistral-small-latest"
        )
    )
    client, _ = client_and_sleeps()
    result = client.complete("Bonjour", system="Sois bref.")
    assert result.text == "Salut" and result.cost_usd == Decimal("0.100000")
    sent = server.received[0]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-test-key"
    assert sent.body["messages"][0] == {"role": "system", "content": "Sois bref."}
    assert sent.body["max_tokens"] == settings.LLM_MAX_OUTPUT_TOKENS


def test_openai_refusal_length_and_errors(settings, server):
    configure(settings, server, "openai", max_retries=0)
    server.reply(
        openai_completion(None, refusal="I can't help with that."),
        openai_completion("{", finish_reason="length"),
        openai_error(401, "Incorrect API key provided"),
        Reply(500, {"error": "model crashed"}),
    )
    client, _ = client_and_sleeps()
    with pytest.raises(errors.LLMRefusal, match="can't help"):
        client.complete("x")
    with pytest.raises(errors.LLMOutputTooLong):
        client.complete("x")
    with pytest.raises(errors.LLMAuthError, match="Incorrect API key"):
        client.complete("x")
    with pytest.raises(errors.LLMUnavailable, match="model crashed"):
        client.complete("x")


def test_unknown_model_price_is_none_not_a_guess(settings, server):
    configure(settings, server, "openai", model="my-local-model")
    server.reply(openai_completion("ok", model="my-local-model"))
    client, _ = client_and_sleeps()
    assert client.complete("x").cost_usd is None


def test_price_table_override(settings, server):
    configure(settings, server, "openai", model="llama3.1:8b", prices={"llama3.1": [0, 0]})
    server.reply(openai_completion("ok", model="llama3.1:8b"))
    client, _ = client_and_sleeps()
    assert client.complete("x").cost_usd == Decimal("0.000000")


def test_prices_longest_prefix_wins():
    table = price_table()
    assert cost("gpt-4o-mini-2024-07-18", 1_000_000, 0, table) == Decimal("0.150000")
    assert cost("gpt-4o-2024-08-06", 1_000_000, 0, table) == Decimal("2.500000")


# --- JSON answers --------------------------------------------------------------------------


def test_json_answer_validated(settings, server):
    configure(settings, server, "openai")
    answer = {"criteria": [{"name": "Prix", "weight": 40}]}
    server.reply(openai_completion("```json\n" + json.dumps(answer) + "\n```"))
    client, _ = client_and_sleeps()
    result = client.complete_json("Critères ?", schema=SCHEMA)
    assert result.data == answer
    sent = server.received[0].body
    assert sent["response_format"] == {"type": "json_object"}
    assert "JSON schema" in sent["messages"][0]["content"]


def test_invalid_json_is_sent_back_once_then_refused(settings, server):
    configure(settings, server)
    server.reply(
        anthropic_message('{"criteria": [{"name": "Prix"}]}', input_tokens=100, output_tokens=10),
        anthropic_message("pas du JSON", input_tokens=150, output_tokens=10),
    )
    calls = []
    client, _ = client_and_sleeps(observer=calls.append)
    with pytest.raises(errors.LLMInvalidOutput, match="structure attendue") as caught:
        client.complete_json("Critères ?", schema=SCHEMA)
    assert len(server.received) == 2
    # The second request tells the model what was wrong with the first answer.
    assert "weight" in server.received[1].body["messages"][0]["content"]
    assert caught.value.usage.input_tokens == 250 and caught.value.usage.output_tokens == 20
    assert [c.succeeded for c in calls] == [False, False]


def test_repaired_json_answer_counts_both_calls(settings, server):
    configure(settings, server)
    server.reply(
        anthropic_message("{}", input_tokens=100, output_tokens=10),
        anthropic_message('{"criteria": []}', input_tokens=120, output_tokens=12),
    )
    calls = []
    client, _ = client_and_sleeps(observer=calls.append)
    result = client.complete_json("Critères ?", schema=SCHEMA)
    assert result.data == {"criteria": []}
    assert (result.input_tokens, result.output_tokens) == (220, 22)
    assert [c.succeeded for c in calls] == [False, True]


def test_json_schema_mode(settings, server):
    configure(settings, server, "openai", json_mode="json_schema")
    server.reply(openai_completion('{"criteria": []}'))
    client, _ = client_and_sleeps()
    client.complete_json("x", schema=SCHEMA)
    assert server.received[0].body["response_format"]["json_schema"]["schema"] == SCHEMA
