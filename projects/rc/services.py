"""The RC analysis of a project, end to end: attach the consultation documents, queue the
analysis, run it as a background job, save its result, and what a failure leaves.

Each function takes the company it acts for. The project moves ``draft →
rc_analyzing`` when the analysis is queued and ``→ rc_analyzed`` in the transaction
that writes the analysis; a failure moves it back (to ``draft``, or to ``rc_analyzed``
when an earlier analysis exists, which stays untouched) with the error on the project.
"""

from __future__ import annotations

import json

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import services as audit
from config import storage as paths
from jobs import registry
from jobs import services as jobs
from jobs.models import Job, JobKind
from library.uploads import CheckedUpload
from llm.errors import LLMError
from projects import llm_usage, workflow
from projects.models import DocumentKind, Project, ProjectDocument, ProjectStatus, RCAnalysis
from projects.rc import storage
from projects.rc.backends import UnknownBackend, analyse_bytes
from projects.rc.document import UnreadableDocument

#: Where an analysis may start from.
ANALYSABLE = (ProjectStatus.DRAFT, ProjectStatus.RC_ANALYZED)


class AnalysisRefused(Exception):
    """The analysis cannot be queued as things are; nothing was changed."""


def record_state(project_id, state: dict) -> None:
    """Merge ``state`` into the project's ``metadata["rc_analysis"]`` (one UPDATE; the
    values it does not name, such as what was filled in, stay)."""
    Project.objects.filter(pk=project_id).update(
        metadata=RawSQL(
            "coalesce(metadata, '{}'::jsonb) || jsonb_build_object('rc_analysis', "
            "coalesce(metadata->'rc_analysis', '{}'::jsonb) || %s::jsonb)",
            [json.dumps(state)],
        )
    )


# --- documents ------------------------------------------------------------------------------


def store(company, document: ProjectDocument, upload, checked: CheckedUpload) -> None:
    """Write ``upload`` to the storage under the company's path and fill the unsaved
    ``document``'s file fields from it."""
    project = Project.objects.for_company(company).get(pk=document.project_id)
    document.storage_path = default_storage.save(
        paths.project_document_path(project.company_id, project.pk, checked.sha256, checked.name),
        upload,
    )
    document.filename = checked.name
    document.content_type = checked.kind.mime_type
    document.size_bytes = checked.size
    document.sha256 = checked.sha256


def mark_rc(document: ProjectDocument) -> None:
    """The project's RC is this file (the legacy ``rc_storage_path`` column)."""
    Project.objects.filter(pk=document.project_id).update(rc_storage_path=document.storage_path)


def attach(
    company, project: Project, upload, checked: CheckedUpload, kind: str, *, user=None
) -> ProjectDocument:
    """Store ``upload`` (already through ``library.uploads.check_upload``) as a document
    of the company's ``project``; the same file twice is kept once."""
    project = Project.objects.for_company(company).get(pk=project.pk)
    existing = ProjectDocument.objects.filter(project=project, sha256=checked.sha256).first()
    if existing is not None:
        if existing.kind != kind:
            existing.kind = kind
            existing.save(update_fields=["kind"])
    else:
        existing = ProjectDocument(
            project=project,
            kind=kind,
            uploaded_by=user if getattr(user, "is_authenticated", False) else None,
        )
        store(company, existing, upload, checked)
        existing.save(force_insert=True)
        audit.record_object(
            "create",
            existing,
            user=user,
            changes={
                "filename": {"old": None, "new": checked.name},
                "kind": {"old": None, "new": kind},
            },
        )
    if kind == DocumentKind.RC:
        mark_rc(existing)
    return existing


def latest_rc(company, project: Project) -> ProjectDocument | None:
    return (
        ProjectDocument.objects.for_company(company)
        .filter(project_id=project.pk, kind=DocumentKind.RC)
        .order_by("-created_at")
        .first()
    )


# --- queueing ---------------------------------------------------------------------------------


def queue_analysis(
    company,
    project: Project,
    *,
    document: ProjectDocument | None = None,
    user=None,
    backend: str | None = None,
    now: bool = False,
    request=None,
) -> Job:
    """Queue the analysis of the project's RC (its latest one by default): the project
    shows "RC being analysed" at once; with ``now`` the job runs in this process."""
    with transaction.atomic():
        locked = Project.objects.for_company(company).select_for_update().get(pk=project.pk)
        if locked.status not in ANALYSABLE:
            raise AnalysisRefused(
                _(
                    "The RC can be analysed while the project is a draft or has its RC "
                    "analysed, not while it is “%(status)s”."
                )
                % {"status": ProjectStatus(locked.status).label}
            )
        document = document or latest_rc(company, locked)
        if document is None or document.project_id != locked.pk:
            raise AnalysisRefused(_("Upload the project's RC first."))
        previous = locked.status
        workflow.move(company, locked, ProjectStatus.RC_ANALYZING, request=request)
        job = jobs.enqueue(
            company,
            JobKind.RC_ANALYSIS,
            locked,
            user=user,
            params={"document": str(document.pk), "backend": backend or ""},
            queue=not now,
        )
        record_state(
            locked.pk,
            {
                "status": "queued",
                "job": str(job.pk),
                "document": str(document.pk),
                "previous_status": previous,
                "error": None,
            },
        )
    if now:
        return jobs.run_inline(job)
    return job


# --- the job ------------------------------------------------------------------------------------


def run(job: Job, progress) -> dict:
    """The work of an ``rc_analysis`` job (see ``projects.tasks``)."""
    project = Project.objects.for_company(job.company_id).filter(pk=job.target_id).first()
    if project is None:
        raise registry.JobFailed(_("This project no longer exists."))
    document = (
        ProjectDocument.objects.for_company(job.company_id)
        .filter(pk=job.params.get("document"), project=project)
        .first()
    )
    if document is None:
        raise registry.JobFailed(_("The RC document of this analysis no longer exists."))
    record_state(project.pk, {"status": "analysing", "job": str(job.pk), "error": None})
    try:
        with default_storage.open(document.storage_path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise registry.JobFailed(
            _("The RC file cannot be read (%(name)s): %(error)s")
            % {"name": document.filename, "error": exc}
        ) from exc
    observer = llm_usage.recorder(
        job.company_id, project, section_type=llm_usage.RC_ANALYSIS, context={"job": str(job.pk)}
    )
    try:
        analysis = analyse_bytes(
            data,
            backend=job.params.get("backend") or None,
            lot=project.lot,
            observer=observer,
            progress=progress,
        )
    except UnreadableDocument as exc:
        raise registry.JobFailed(str(exc)) from None
    except (LLMError, UnknownBackend) as exc:
        # Raised before any call: the configuration, not a passing failure.
        raise registry.JobFailed(str(exc)) from None
    total = getattr(getattr(progress, "job", None), "progress_total", None)
    progress(total, total, _("Saving the analysis"))
    row = save(job.company_id, project.pk, analysis, document, job=job)
    return {
        "analysis": str(row.pk),
        "backend": analysis.backend,
        "criteria": len(analysis.criteria),
        "required_contents": len(analysis.required_contents),
        "warnings": len(analysis.warnings),
        "confidence": analysis.confidence,
        "seconds": round(analysis.seconds, 3),
    }


def save(company, project_id, analysis, document: ProjectDocument, *, job: Job | None = None):
    """Write the analysis and move the project to "RC analysed", in one transaction;
    what a person corrected in an earlier analysis stays (``storage.merge_reanalysis``)."""
    with transaction.atomic():
        project = Project.objects.for_company(company).select_for_update().get(pk=project_id)
        if project.status != ProjectStatus.RC_ANALYZING:
            raise registry.JobFailed(
                _(
                    "The project left “RC being analysed” while its RC was read (it is now "
                    "“%(status)s”): nothing was saved."
                )
                % {"status": ProjectStatus(project.status).label}
            )
        row = RCAnalysis.objects.filter(project=project).select_for_update().first()
        merged = storage.merge_reanalysis(storage.from_row(row) if row else None, analysis)
        columns = storage.to_columns(
            merged,
            document={
                "id": str(document.pk),
                "filename": document.filename,
                "job": str(job.pk) if job else None,
            },
        )
        values = {
            **columns,
            "rc_file_url": document.storage_path,
            "confidence_score": merged.confidence,
            "analyzed_at": timezone.now(),
        }
        if row is None:
            row = RCAnalysis.objects.create(project=project, **values)
        else:
            for name, value in values.items():
                setattr(row, name, value)
            row.save()
        changes = storage.fill_project(project, merged)
        state = project.metadata["rc_analysis"]
        state.update(
            {
                "status": "analysed",
                "job": str(job.pk) if job else None,
                "document": str(document.pk),
                "error": None,
                "analysed_at": timezone.now().isoformat(),
            }
        )
        project.save(update_fields=[*changes, "metadata"])
        workflow.move(company, project, ProjectStatus.RC_ANALYZED)
        audit.record_object(
            "analyse",
            row,
            user=job.created_by if job else None,
            extra={
                "backend": merged.backend,
                "document": document.filename,
                "criteria": len(merged.criteria),
                "proposals": sorted(merged.proposals),
            },
        )
        if changes:
            audit.record_object(
                "update", project, user=job.created_by if job else None, changes=changes
            )
    return row


def failed(job: Job, message: str) -> None:
    """A job that failed for good: the project goes back to where it was, the error is
    shown on it, any earlier analysis is untouched."""
    with transaction.atomic():
        project = (
            Project.objects.for_company(job.company_id)
            .select_for_update()
            .filter(pk=job.target_id)
            .first()
        )
        if project is None:
            return
        if project.status == ProjectStatus.RC_ANALYZING:
            back = (
                ProjectStatus.RC_ANALYZED
                if RCAnalysis.objects.filter(project=project).exists()
                else ProjectStatus.DRAFT
            )
            workflow.move(job.company_id, project, back)
        record_state(
            project.pk,
            {
                "status": "failed",
                "job": str(job.pk),
                "error": message,
                "failed_at": timezone.now().isoformat(),
            },
        )
        audit.record_object("rc_analysis", project, user=job.created_by, extra={"error": message})


# --- the review --------------------------------------------------------------------------------


def save_review(company, row: RCAnalysis, analysis, *, request=None) -> RCAnalysis:
    """Write the reviewed analysis, fill the project's empty fields from it, and move a
    project still in draft (an analysis entered by hand) to "RC analysed"."""
    with transaction.atomic():
        project = Project.objects.for_company(company).select_for_update().get(pk=row.project_id)
        locked = RCAnalysis.objects.select_for_update().get(pk=row.pk, project=project)
        info = locked.project_info if isinstance(locked.project_info, dict) else {}
        for name, value in storage.to_columns(
            analysis, document=info.get("document") or {}
        ).items():
            setattr(locked, name, value)
        locked.save()
        changes = storage.fill_project(project, analysis)
        project.save(update_fields=[*changes, "metadata"])
        if changes:
            audit.record_object("update", project, request=request, changes=changes)
        if project.status == ProjectStatus.DRAFT:
            workflow.move(company, project, ProjectStatus.RC_ANALYZING, request=request)
            workflow.move(company, project, ProjectStatus.RC_ANALYZED, request=request)
        locked._audit_before = getattr(row, "_audit_before", None)
    return locked
