"""What a provider does: build the request, read the answer, explain an error status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from llm import errors
from llm.config import ProviderConfig
from llm.http import Response


@dataclass(frozen=True)
class Completion:
    text: str
    input_tokens: int
    output_tokens: int
    model: str
    stop_reason: str


def _retry_after(headers: dict[str, str]) -> float | None:
    try:
        return max(0.0, float(headers.get("retry-after", "")))
    except ValueError:
        return None


class Provider:
    name = ""

    def build(
        self,
        config: ProviderConfig,
        *,
        system: str,
        prompt: str,
        max_tokens: int,
        schema: dict | None,
    ) -> tuple[str, dict[str, str], dict[str, Any]]:
        """(url, headers, JSON payload) of one request."""
        raise NotImplementedError

    def parse(self, config: ProviderConfig, data: Any, max_tokens: int) -> Completion:
        """The answer, or the error it stands for (refusal, cut at the limit…)."""
        raise NotImplementedError

    def error_detail(self, data: Any) -> str:
        """The provider's own message in an error answer."""
        return str(data)[:300]

    def error(self, response: Response) -> errors.LLMError:
        """The error an HTTP status ≥ 400 stands for."""
        status = response.status
        detail = self.error_detail(response.data) if response.data else ""
        if status in (401, 403):
            return errors.LLMAuthError(
                _(
                    "The language model provider refused the API key (HTTP %(status)s): check LLM_API_KEY. %(detail)s"
                )
                % {"status": status, "detail": detail},
                status=status,
            )
        if status == 408:
            return errors.LLMTimeout(
                _("The language model provider timed out (HTTP 408)."), status=status
            )
        if status == 429:
            return errors.LLMRateLimited(
                _("The language model provider is limiting requests (HTTP 429): %(detail)s")
                % {"detail": detail},
                retry_after=_retry_after(response.headers),
                status=status,
            )
        if status >= 500:
            return errors.LLMUnavailable(
                _("The language model provider failed (HTTP %(status)s): %(detail)s")
                % {"status": status, "detail": detail},
                status=status,
            )
        return errors.LLMBadRequest(
            _("The language model provider rejected the request (HTTP %(status)s): %(detail)s")
            % {"status": status, "detail": detail},
            status=status,
        )

    @staticmethod
    def bad_response(detail: str) -> errors.LLMBadResponse:
        return errors.LLMBadResponse(
            _("The language model provider's answer cannot be read: %(detail)s")
            % {"detail": detail}
        )

    @staticmethod
    def too_long(max_tokens: int, usage: errors.Usage) -> errors.LLMOutputTooLong:
        return errors.LLMOutputTooLong(
            _(
                "The model's answer was cut at %(tokens)s tokens (LLM_MAX_OUTPUT_TOKENS): the answer is incomplete."
            )
            % {"tokens": max_tokens},
            usage=usage,
        )

    @staticmethod
    def refusal(reason: str, usage: errors.Usage) -> errors.LLMRefusal:
        return errors.LLMRefusal(
            _("The model declined to answer: %(reason)s") % {"reason": reason or "—"},
            usage=usage,
        )


def as_int(value: Any) -> int:
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0
