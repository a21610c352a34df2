"""Writing a project's memoir as a background job (``JobKind.GENERATION``), per section or
whole: the project moves ``matched → generating`` when the job is queued and
``→ generated`` once every section is written.

Each run of a section writes one ``generation_requests`` row — provider, model, tokens,
cost, duration, status, error, and what replays it: the prompt's hash, the block
versions, past projects and memoir chunks (with their scores) it was written from, the
parameters and the output's hash. The section pins the block versions it was written from; its previous
text is kept as a version.
"""

from __future__ import annotations

import time

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit import services as audit
from jobs import registry
from jobs import services as jobs
from jobs.models import Job, JobKind
from projects import workflow
from projects.memoir import backends, budget, context, factcheck, review
from projects.memoir.plan import NothingToWrite, SectionPlan, plan
from projects.models import (
    GenerationRequest,
    GenerationStatus,
    Project,
    ProjectStatus,
    Section,
)
from tenants.models import Company

#: Where a generation may start from.
GENERATABLE = (ProjectStatus.MATCHED, ProjectStatus.GENERATED, ProjectStatus.REVIEWING)


class GenerationNotAllowed(Exception):
    """The generation cannot be queued as things are; nothing was changed."""


def queue_generation(
    company,
    project: Project,
    *,
    criteria: list[str] | None = None,
    backend: str | None = None,
    user=None,
    now: bool = False,
    request=None,
) -> Job:
    """Queue the writing of the project's memoir (of the sections of ``criteria`` only
    when given); the project shows "Generating" at once."""
    backend = backends.backend_name(backend)
    with transaction.atomic():
        locked = Project.objects.for_company(company).select_for_update().get(pk=project.pk)
        if locked.status not in GENERATABLE:
            raise GenerationNotAllowed(
                _(
                    "The memoir can be generated once the content is matched, not while the "
                    "project is “%(status)s”."
                )
                % {"status": ProjectStatus(locked.status).label}
            )
        try:
            plans, _analysis = plan(company, locked)
        except NothingToWrite as exc:
            raise GenerationNotAllowed(str(exc)) from None
        if backend == backends.LLM:
            # Already over this month's budget: say so now rather than from the job.
            try:
                budget.check(company_of(company), 1, None)
            except budget.BudgetExceeded as exc:
                raise GenerationNotAllowed(str(exc)) from None
        known = {p.criterion_id for p in plans}
        unknown = [c for c in criteria or [] if c not in known]
        if unknown:
            raise GenerationNotAllowed(
                _("Unknown criterion: %(ids)s.") % {"ids": ", ".join(unknown)}
            )
        workflow.move(company, locked, ProjectStatus.GENERATING, request=request)
        job = jobs.enqueue(
            company,
            JobKind.GENERATION,
            locked,
            user=user,
            params={"criteria": sorted(criteria or []), "backend": backend},
            queue=not now,
        )
    if now:
        return jobs.run_inline(job)
    return job


def company_of(company) -> Company:
    return company if isinstance(company, Company) else Company.objects.get(pk=company)


def record(company, project: Project, plan_item: SectionPlan, ctx, draft, *, job=None, error=None):
    """The ``generation_requests`` row of one run."""
    request_context = {
        "purpose": "generation",
        "job": str(job.pk) if job else None,
        "provider": draft.provider if draft else None,
        "input_tokens": draft.input_tokens if draft else 0,
        "output_tokens": draft.output_tokens if draft else 0,
        "prompt_sha256": draft.prompt_sha256 if draft else None,
        "output_sha256": draft.output_sha256 if draft and draft.text and not error else None,
        "params": draft.params if draft else {},
        "criterion": plan_item.criterion_id,
        "blocks": ctx.block_versions() if ctx else [],
        "past_projects": ctx.past_project_records() if ctx else [],
        "chunks": [p.as_json() for p in ctx.passages] if ctx else [],
        "template": str(ctx.template.pk) if ctx and ctx.template else None,
    }
    return GenerationRequest.objects.create(
        project=project,
        section_type=plan_item.criterion_id,
        status=GenerationStatus.FAILED if error else GenerationStatus.COMPLETED,
        request_context=request_context,
        generated_content=None if error else draft.text,
        model_used=(draft.model[:100] if draft else None),
        tokens_used=(draft.input_tokens + draft.output_tokens) if draft else 0,
        cost_usd=draft.cost_usd if draft else None,
        latency_seconds=round(draft.duration_seconds, 3) if draft else 0,
        error_message=error,
        completed_at=timezone.now(),
    )


def write_section(
    company, project: Project, plan_item: SectionPlan, ctx, draft, *, user=None
) -> Section:
    """Store the draft as the section of ``plan_item`` (created, or its text replaced
    and the previous one kept as a version)."""
    section = (
        Section.objects.for_company(company)
        .select_for_update(of=("self",))
        .filter(
            project_id=project.pk,
            section_type__in=[plan_item.criterion_id, *sorted(plan_item.aliases)],
        )
        .order_by("order_num")
        .first()
    )
    values = {
        "section_type": plan_item.criterion_id,
        "title": plan_item.title[:255],
        "content": draft.text,
        "order_num": plan_item.order,
        "generated_by_ai": draft.provider != backends.ASSEMBLY,
        "source_blocks": [b.pk for b in ctx.blocks],
        "source_versions": {str(b.pk): b.version for b in ctx.blocks},
        "source_passages": [p.as_json() for p in ctx.passages],
        "source_past_projects": ctx.past_project_records(),
        "quality_score": None,  # a score of the previous text says nothing of this one
        "reviewed": False,
        "reviewer": None,
        "reviewed_at": None,
    }
    if section is None:
        return Section.objects.create(project=project, **values)
    review.keep_version(section, reason="generation", user=user)
    for name, value in values.items():
        setattr(section, name, value)
    section.save(update_fields=list(values))
    return section


def generate_section(
    company,
    project,
    plan_item: SectionPlan,
    backend: str,
    *,
    job=None,
    user=None,
    known_facts: list | None = None,
):
    """Write one section; returns (section, generation request); raises
    ``backends.GenerationRefused`` after recording the failed run. ``known_facts``:
    ``factcheck.company_facts(company)``, read once by a job writing several sections."""
    ctx = context.build(company, project, plan_item, known_facts=known_facts)
    try:
        draft = backends.write(ctx, backend)
    except backends.GenerationRefused as refused:
        with transaction.atomic():
            record(company, project, plan_item, ctx, refused.draft, job=job, error=str(refused))
        raise
    with transaction.atomic():
        row = record(company, project, plan_item, ctx, draft, job=job)
        section = write_section(company, project, plan_item, ctx, draft, user=user)
    return section, row


def run(job: Job, progress) -> dict:
    """The work of a ``generation`` job (see ``projects.tasks``)."""
    started = time.perf_counter()
    company = Company.objects.filter(pk=job.company_id).first()
    project = Project.objects.for_company(job.company_id).filter(pk=job.target_id).first()
    if project is None or company is None:
        raise registry.JobFailed(_("This project no longer exists."))
    if project.status != ProjectStatus.GENERATING:
        raise registry.JobFailed(
            _("The project left “Generating” (it is “%(status)s”): nothing was written.")
            % {"status": ProjectStatus(project.status).label}
        )
    backend = backends.backend_name(job.params.get("backend"))
    with translation.override("fr"):
        try:
            plans, _analysis = plan(company, project)
        except NothingToWrite as exc:
            raise registry.JobFailed(str(exc)) from None
        wanted = set(job.params.get("criteria") or [])
        todo = [p for p in plans if not wanted or p.criterion_id in wanted]
        progress(0, len(todo), _("Writing the sections"))
        failures, tokens, written = [], 0, []
        known_facts = factcheck.company_facts(company)  # what any section could name
        for done, plan_item in enumerate(todo, start=1):
            progress(done - 1, len(todo), plan_item.heading)
            try:
                section, row = generate_section(
                    company,
                    project,
                    plan_item,
                    backend,
                    job=job,
                    user=job.created_by,
                    known_facts=known_facts,
                )
            except backends.GenerationRefused as refused:
                failures.append(f"{plan_item.heading} : {refused}")
                continue
            tokens += row.tokens_used or 0
            written.append(str(section.pk))
        progress(len(todo), len(todo), _("Sections written"))
        if failures:
            raise registry.JobFailed(" ".join(failures))
        with transaction.atomic():
            locked = Project.objects.for_company(company).select_for_update().get(pk=project.pk)
            if locked.status == ProjectStatus.GENERATING:
                workflow.move(company, locked, ProjectStatus.GENERATED)
            audit.record_object(
                "generate",
                locked,
                user=job.created_by,
                extra={"backend": backend, "sections": len(written)},
            )
    return {
        "sections": len(written),
        "backend": backend,
        "tokens": tokens,
        "seconds": round(time.perf_counter() - started, 3),
    }


def failed(job: Job, message: str) -> None:
    """A generation that failed for good: the project goes back to "generated" when every
    section has a text, else to "matched"; the error is kept on the project."""
    with transaction.atomic():
        project = (
            Project.objects.for_company(job.company_id)
            .select_for_update()
            .filter(pk=job.target_id)
            .first()
        )
        if project is None:
            return
        if project.status == ProjectStatus.GENERATING:
            try:
                plans, _analysis = plan(job.company_id, project)
            except NothingToWrite:
                plans = []
            written = set(
                Section.objects.for_company(job.company_id)
                .filter(project_id=project.pk)
                .exclude(content__isnull=True)
                .exclude(content="")
                .values_list("section_type", flat=True)
            )
            complete = bool(plans) and all(p.criterion_id in written for p in plans)
            back = ProjectStatus.GENERATED if complete else ProjectStatus.MATCHED
            workflow.move(job.company_id, project, back)
        metadata = dict(project.metadata or {})
        metadata["generation"] = {"status": "failed", "job": str(job.pk), "error": message}
        Project.objects.filter(pk=project.pk).update(metadata=metadata)
