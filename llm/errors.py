"""What can go wrong when calling a model, as exceptions whose message is for the user.

Each error says whether trying again may help (``retryable``): the client retries those
with backoff, and callers keep their fallback for the others. Errors raised after the
provider answered carry the tokens it billed (``usage``), so that the cost of a failed
call is still recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal | None = None

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        costs = [c for c in (self.cost_usd, other.cost_usd) if c is not None]
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            sum(costs, Decimal(0)) if costs else None,
        )


class LLMError(Exception):
    """A call to the model failed; ``str(error)`` is a sentence for the user."""

    retryable = False

    def __init__(self, message: str, *, usage: Usage | None = None, status: int | None = None):
        super().__init__(message)
        self.usage = usage or Usage()
        self.status = status
        self.attempts = 1
        self.duration_seconds = 0.0


class LLMNotConfigured(LLMError):
    pass


class LLMAuthError(LLMError):
    """Missing or refused API key."""


class LLMTimeout(LLMError):
    retryable = True


class LLMRateLimited(LLMError):
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class LLMUnavailable(LLMError):
    """The provider could not be reached or failed on its side (5xx, overloaded)."""

    retryable = True


class LLMBadRequest(LLMError):
    """The provider refused the request as such (unknown model, bad parameter)."""


class LLMBadResponse(LLMError):
    """The provider answered something that is not what its API documents."""


class LLMRefusal(LLMError):
    """The model declined to answer."""


class LLMOutputTooLong(LLMError):
    """The answer was cut at the output token limit."""


class LLMInvalidOutput(LLMError):
    """The answer is not the JSON asked for (after the repair attempts)."""


def not_configured() -> LLMNotConfigured:
    return LLMNotConfigured(
        _("No language model is configured: set LLM_PROVIDER (anthropic or openai) and its key.")
    )


def missing_key(provider: str) -> LLMAuthError:
    return LLMAuthError(
        _("The language model provider “%(provider)s” needs an API key: set LLM_API_KEY.")
        % {"provider": provider}
    )
