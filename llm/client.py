"""Calling the configured model: one request, retried with backoff when that may help,
returning the text with its tokens, cost, model and duration.

``complete_json`` also asks for JSON, validates it against a schema and, when it does
not validate, asks once more with the validation errors (``repairs``). Every call that
reached the provider is reported to ``observer`` (an ``LLMCall``), success or failure,
so the caller can record what it cost (``generation_requests``).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from llm import errors, http, jsonout
from llm.config import ProviderConfig
from llm.prices import cost
from llm.providers import Completion, get_provider

#: The longest wait between two attempts, whatever a Retry-After header says.
MAX_BACKOFF_SECONDS = 60.0


@dataclass(frozen=True)
class LLMResult:
    text: str
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal | None
    model: str
    provider: str
    duration_seconds: float
    attempts: int
    stop_reason: str = ""
    data: Any = None  # the validated JSON (``complete_json``)

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class LLMCall:
    """One call as recorded: what was asked (hashed), what it cost, how it ended."""

    provider: str
    model: str
    purpose: str
    prompt_sha256: str
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal | None
    duration_seconds: float
    attempts: int
    text: str | None
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.error is None


def prompt_hash(system: str, prompt: str) -> str:
    return hashlib.sha256(f"{system}\x00{prompt}".encode()).hexdigest()


class LLMClient:
    def __init__(
        self,
        config: ProviderConfig,
        *,
        observer: Callable[[LLMCall], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.config = config
        self.provider = get_provider(config.provider)
        self.observer = observer
        self.sleep = sleep

    # --- public -------------------------------------------------------------------
    def complete(
        self, prompt: str, *, system: str = "", max_tokens: int | None = None, purpose: str = ""
    ) -> LLMResult:
        """The model's answer to ``prompt``; raises an ``LLMError`` (French message)."""
        try:
            result = self._call(prompt, system=system, max_tokens=max_tokens, schema=None)
        except errors.LLMError as exc:
            self._observe_failure(exc, system, prompt, purpose)
            raise
        self._observe(result, system, prompt, purpose, None)
        return result

    def complete_json(
        self,
        prompt: str,
        *,
        schema: dict,
        system: str = "",
        max_tokens: int | None = None,
        repairs: int = 1,
        purpose: str = "",
    ) -> LLMResult:
        """The model's answer as JSON valid against ``schema`` (``result.data``).

        An answer that does not validate is sent back once (``repairs``) with what is
        wrong; after that ``LLMInvalidOutput`` is raised, with the tokens of every try.
        """
        jsonout.check_schema(schema)
        system = f"{system}\n\n{jsonout.instructions(schema)}".strip()
        asked, spent = prompt, errors.Usage()
        for attempt in range(repairs + 1):
            try:
                result = self._call(asked, system=system, max_tokens=max_tokens, schema=schema)
            except errors.LLMError as exc:
                self._observe_failure(exc, system, asked, purpose)
                exc.usage = spent + exc.usage
                raise
            spent = spent + errors.Usage(result.input_tokens, result.output_tokens, result.cost_usd)
            try:
                data = jsonout.parse(result.text)
                jsonout.validate(data, schema)
            except jsonout.InvalidJSON as problem:
                message = _(
                    "The model's answer does not follow the expected structure: %(problem)s"
                ) % {"problem": problem}
                self._observe(result, system, asked, purpose, message)
                if attempt == repairs:
                    raise errors.LLMInvalidOutput(message, usage=spent) from None
                asked = (
                    f"{prompt}\n\nYour previous answer was rejected: {problem}\n"
                    "Answer again with the corrected JSON object only."
                )
                continue
            self._observe(result, system, asked, purpose, None)
            return replace(
                result,
                data=data,
                input_tokens=spent.input_tokens,
                output_tokens=spent.output_tokens,
                cost_usd=spent.cost_usd,
            )
        raise AssertionError("unreachable")  # pragma: no cover

    # --- one call, with its retries ----------------------------------------------------
    def _call(self, prompt: str, *, system: str, max_tokens: int | None, schema) -> LLMResult:
        config = self.config
        limit = max_tokens or config.max_output_tokens
        url, headers, payload = self.provider.build(
            config, system=system, prompt=prompt, max_tokens=limit, schema=schema
        )
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                response = http.post_json(url, payload, headers, config.timeout_seconds)
                if response.status >= 400:
                    raise self.provider.error(response)
                if not response.is_json:
                    raise self.provider.bad_response(_("the answer is not JSON"))
                completion = self.provider.parse(config, response.data, limit)
                break
            except errors.LLMError as exc:
                exc.usage = self._priced(exc.usage, config.model)
                exc.attempts = attempt
                exc.duration_seconds = time.monotonic() - started
                if exc.retryable and attempt <= config.max_retries:
                    self.sleep(self._backoff(attempt, exc))
                    continue
                raise
        return self._result(completion, attempt, time.monotonic() - started)

    def _backoff(self, attempt: int, exc: errors.LLMError) -> float:
        delay = self.config.retry_backoff_seconds * 2 ** (attempt - 1)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return min(delay, MAX_BACKOFF_SECONDS)

    def _priced(self, usage: errors.Usage, model: str) -> errors.Usage:
        if usage.cost_usd is not None or not usage.total_tokens:
            return usage
        return replace(
            usage,
            cost_usd=cost(model, usage.input_tokens, usage.output_tokens, self.config.prices),
        )

    def _result(self, completion: Completion, attempts: int, seconds: float) -> LLMResult:
        return LLMResult(
            text=completion.text,
            input_tokens=completion.input_tokens,
            output_tokens=completion.output_tokens,
            cost_usd=cost(
                completion.model,
                completion.input_tokens,
                completion.output_tokens,
                self.config.prices,
            )
            if completion.model
            else None,
            model=completion.model or self.config.model,
            provider=self.config.provider,
            duration_seconds=seconds,
            attempts=attempts,
            stop_reason=completion.stop_reason,
        )

    # --- reporting ---------------------------------------------------------------------
    def _observe(self, result: LLMResult, system, prompt, purpose, error: str | None) -> None:
        if self.observer is None:
            return
        self.observer(
            LLMCall(
                provider=result.provider,
                model=result.model,
                purpose=purpose,
                prompt_sha256=prompt_hash(system, prompt),
                input_tokens=result.input_tokens,
                output_tokens=result.output_tokens,
                cost_usd=result.cost_usd,
                duration_seconds=result.duration_seconds,
                attempts=result.attempts,
                text=result.text,
                error=error,
            )
        )

    def _observe_failure(self, exc: errors.LLMError, system, prompt, purpose) -> None:
        if self.observer is None:
            return
        self.observer(
            LLMCall(
                provider=self.config.provider,
                model=self.config.model,
                purpose=purpose,
                prompt_sha256=prompt_hash(system, prompt),
                input_tokens=exc.usage.input_tokens,
                output_tokens=exc.usage.output_tokens,
                cost_usd=exc.usage.cost_usd,
                duration_seconds=getattr(exc, "duration_seconds", 0.0),
                attempts=getattr(exc, "attempts", 1),
                text=None,
                error=str(exc),
            )
        )
