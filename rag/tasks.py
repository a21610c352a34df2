"""Memoir indexing as a background job (``jobs``)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import services as audit
from jobs import registry
from jobs import services as jobs
from jobs.models import Job, JobKind
from rag.indexing import IndexingError, index_memoire, record_status
from rag.models import Memoire


def queue_indexing(company, memoire: Memoire, *, user=None, now: bool = False) -> Job:
    """Queue the (re)indexing of the company's memoir; with ``now``, run it in this
    process instead of waiting for a worker. The memoir shows "queued" at once."""
    with transaction.atomic():
        job = jobs.enqueue(company, JobKind.MEMOIR_INDEXING, memoire, user=user, queue=not now)
        record_status(memoire.pk, {"status": "queued", "job": str(job.pk), "error": None})
    if now:
        return jobs.run_inline(job)
    return job


def _failed(job: Job, message: str) -> None:
    record_status(
        job.target_id,
        {
            "status": "failed",
            "job": str(job.pk),
            "error": message,
            "failed_at": timezone.now().isoformat(),
        },
    )
    memoire = Memoire.objects.filter(pk=job.target_id).first()
    if memoire is not None:
        audit.record_object("index", memoire, user=job.created_by, extra={"error": message})


@registry.handler(JobKind.MEMOIR_INDEXING, on_failure=_failed)
def index_memoir_job(job: Job, progress) -> dict:
    record_status(job.target_id, {"status": "indexing", "job": str(job.pk), "error": None})
    try:
        result = index_memoire(job.company_id, job.target_id, progress=progress)
    except Memoire.DoesNotExist:
        raise registry.JobFailed(_("This memoir no longer exists.")) from None
    except IndexingError as exc:
        raise registry.JobFailed(str(exc)) from None
    audit.record_object(
        "index",
        result.memoire,
        user=job.created_by,
        extra={"chunks": result.chunks, "model": result.model, "seconds": round(result.seconds, 2)},
    )
    return {"chunks": result.chunks, "model": result.model, "seconds": round(result.seconds, 2)}
