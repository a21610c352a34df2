"""Memoir work as background jobs (``jobs``): indexing a memoir, re-embedding the
chunks of another model, and keeping the vector indexes suited to the data."""

from __future__ import annotations

import logging

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from procrastinate.contrib.django import app

from audit import services as audit
from jobs import registry
from jobs import services as jobs
from jobs.models import Job, JobKind
from rag import vector_index
from rag.indexing import IndexingError, index_memoire, record_status, reembed_memoire
from rag.models import Memoire
from tenants.managers import company_pk
from tenants.models import Company

logger = logging.getLogger(__name__)


def queue_indexing(company, memoire: Memoire, *, user=None, now: bool = False) -> Job:
    """Queue the (re)indexing of the company's memoir; with ``now``, run it in this
    process instead of waiting for a worker. The memoir shows "queued" at once."""
    with transaction.atomic():
        job = jobs.enqueue(company, JobKind.MEMOIR_INDEXING, memoire, user=user, queue=not now)
        record_status(memoire.pk, {"status": "queued", "job": str(job.pk), "error": None})
    if now:
        return jobs.run_inline(job)
    return job


def queue_reembedding(company, memoire: Memoire, *, user=None, now: bool = False) -> Job:
    """Queue the re-embedding of the memoir's chunks that another model embedded."""
    with transaction.atomic():
        job = jobs.enqueue(company, JobKind.EMBEDDINGS, memoire, user=user, queue=not now)
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
    queue_vector_index_if_unsuited(job.company_id)
    return {"chunks": result.chunks, "model": result.model, "seconds": round(result.seconds, 2)}


@registry.handler(JobKind.EMBEDDINGS, on_failure=_failed)
def reembed_memoir_job(job: Job, progress) -> dict:
    record_status(job.target_id, {"status": "indexing", "job": str(job.pk), "error": None})
    try:
        result = reembed_memoire(job.company_id, job.target_id, progress=progress)
    except Memoire.DoesNotExist:
        raise registry.JobFailed(_("This memoir no longer exists.")) from None
    audit.record_object(
        "reembed",
        result.memoire,
        user=job.created_by,
        extra={"chunks": result.chunks, "model": result.model, "seconds": round(result.seconds, 2)},
    )
    queue_vector_index_if_unsuited(job.company_id)
    return {"chunks": result.chunks, "model": result.model, "seconds": round(result.seconds, 2)}


# --- the vector indexes ---------------------------------------------------------------


def queue_vector_index_if_unsuited(company=None) -> Job | None:
    """Queue a rebuild of the vector indexes when one no longer suits its data.

    The job is the company's (``company``, or the one holding the most chunks) so that
    its administrators see it; one is queued at a time whatever the company."""
    if not vector_index.unsuited():
        return None
    if Job.objects.filter(kind=JobKind.VECTOR_INDEX).unfinished().exists():
        return None
    if company is None:
        company = (
            Company.objects.annotate(chunks=Count("memoire__chunks"))
            .filter(chunks__gt=0)
            .order_by("-chunks")
            .first()
        )
        if company is None:
            return None
    target = Company.objects.get(pk=company_pk(company))
    with transaction.atomic():
        return jobs.enqueue(target, JobKind.VECTOR_INDEX, target)


@registry.handler(JobKind.VECTOR_INDEX)
def rebuild_vector_indexes_job(job: Job, progress) -> dict:
    """Rebuild, concurrently, each vector index that does not suit its data."""
    if connection.in_atomic_block:
        raise registry.JobFailed(_("A vector index is rebuilt outside a transaction."))
    todo = vector_index.unsuited()
    rebuilt = []
    for number, index in enumerate(todo):
        progress(number, len(todo), _("Building %(index)s") % {"index": index.name})
        try:
            done = vector_index.rebuild(index.column)
        except vector_index.RebuildBusy:
            raise registry.JobFailed(
                _("Another process is rebuilding a vector index; this job stops.")
            ) from None
        if done.using:
            rebuilt.append(
                {
                    "index": done.name,
                    "using": done.using,
                    "rows": done.rows,
                    "seconds": done.seconds,
                }
            )
    progress(len(todo), len(todo), _("Done"))
    return {"rebuilt": rebuilt}


@app.periodic(cron="*/10 * * * *", periodic_id="check-vector-indexes")
@app.task(name="rag.check_vector_indexes", queueing_lock="rag.check_vector_indexes")
def check_vector_indexes(timestamp: int) -> None:
    """Every ten minutes: a migrated database whose vector index the migration left to
    a worker, or one that outgrew its ivfflat lists, gets its rebuild queued."""
    from django.db import close_old_connections

    close_old_connections()
    try:
        job = queue_vector_index_if_unsuited()
        if job is not None:
            logger.info("vector index rebuild queued: job %s", job.pk)
    finally:
        close_old_connections()
