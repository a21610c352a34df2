"""What each language-model call cost, in ``generation_requests`` (the contract's table of
AI calls): one row per call, success or failure, with its provider, model, tokens in
and out, cost, duration and error. Used by the RC analysis; the generation of sections
records its calls the same way."""

from __future__ import annotations

from django.utils import timezone

from llm.client import LLMCall
from projects.models import GenerationRequest, GenerationStatus, Project

#: ``generation_requests.section_type`` of the RC analysis' calls.
RC_ANALYSIS = "rc_analysis"


def record_call(
    company, project: Project, call: LLMCall, *, section_type: str, context: dict | None = None
) -> GenerationRequest:
    """One row for ``call`` on the company's ``project`` (which must be the company's)."""
    project = Project.objects.for_company(company).get(pk=project.pk)
    return GenerationRequest.objects.create(
        project=project,
        section_type=section_type,
        status=GenerationStatus.COMPLETED if call.succeeded else GenerationStatus.FAILED,
        request_context={
            "purpose": call.purpose,
            "provider": call.provider,
            "input_tokens": call.input_tokens,
            "output_tokens": call.output_tokens,
            "attempts": call.attempts,
            "prompt_sha256": call.prompt_sha256,
            **(context or {}),
        },
        generated_content=call.text,
        model_used=call.model[:100],
        tokens_used=call.input_tokens + call.output_tokens,
        cost_usd=call.cost_usd,
        latency_seconds=round(call.duration_seconds, 3),
        error_message=call.error,
        completed_at=timezone.now(),
    )


def recorder(company, project: Project, *, section_type: str, context: dict | None = None):
    """An ``observer`` for ``llm.client.LLMClient`` that records every call."""

    def observe(call: LLMCall) -> None:
        record_call(company, project, call, section_type=section_type, context=context)

    return observe
