"""Queueing background jobs and running them.

``enqueue`` writes the company's ``Job`` row and the queue's job in the caller's
transaction: both exist once it commits, neither if it rolls back, and no worker sees
a job whose object is not committed yet. ``execute`` is what a worker runs for it.
"""

from __future__ import annotations

import logging
import traceback

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from procrastinate.contrib.django import app

from jobs import registry
from jobs.models import Job, JobStatus
from tenants import rls
from tenants.managers import company_pk

logger = logging.getLogger(__name__)

#: The queue's task that runs every job (see jobs.tasks).
RUN_JOB_TASK = "jobs.run"


def lock_for(target_type: str, target_id) -> str:
    """Jobs on one object never run at the same time (procrastinate's ``lock``)."""
    return f"{target_type}:{target_id}"


def enqueue(
    company,
    kind: str,
    target: models.Model,
    *,
    user=None,
    params: dict | None = None,
    queue: bool = True,
) -> Job:
    """Queue a job of ``kind`` on ``target`` (an object of ``company``).

    A job of the same kind already waiting for the same object with the same
    parameters is returned instead of queueing a second one. With ``queue=False`` the row is written but no worker is
    asked: the caller runs it itself (``run_inline``).
    """
    company_id = company_pk(company)
    if str(getattr(target, "company_id", company_id)) != str(company_id):
        raise LookupError("The object of a job must belong to the job's company.")
    target_type = target._meta.label_lower
    with transaction.atomic():
        waiting = (
            Job.objects.for_company(company_id)
            .select_for_update()
            .filter(
                kind=kind,
                target_type=target_type,
                target_id=target.pk,
                params=params or {},
                status=JobStatus.QUEUED,
            )
            .first()
        )
        if waiting is not None:
            return waiting
        job = Job.objects.create(
            company_id=company_id,
            kind=kind,
            target_type=target_type,
            target_id=target.pk,
            target_label=str(target)[:255],
            params=params or {},
            max_attempts=settings.JOBS_MAX_ATTEMPTS,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        if queue:
            job.queue_job_id = app.configure_task(
                RUN_JOB_TASK, lock=lock_for(target_type, target.pk)
            ).defer(job_id=str(job.pk))
            Job.objects.filter(pk=job.pk).update(queue_job_id=job.queue_job_id)
    return job


class Progress:
    """What a handler reports while it works: written to its Job row at once (outside
    any transaction of the handler's), so the admin's progress bar moves."""

    def __init__(self, job: Job):
        self.job = job

    def __call__(self, done: int | None = None, total: int | None = None, message=None) -> None:
        changes = {"updated_at": timezone.now()}
        if done is not None:
            changes["progress_done"] = self.job.progress_done = max(0, int(done))
        if total is not None:
            changes["progress_total"] = self.job.progress_total = max(0, int(total))
        if message is not None:
            changes["message"] = self.job.message = str(message)[:255]
        Job.objects.filter(pk=self.job.pk).update(**changes)


class RetryLater(Exception):
    """Raised by ``execute`` to have the queue run the job again, after backoff."""


def execute(job_id) -> Job | None:
    """Run the job ``job_id``: mark it running, call its handler, record the outcome.

    A job that already finished (a retried stalled job whose first run ended after
    all) is left alone. Returns the job, or None if it no longer exists (its object
    and so its row were deleted).
    """
    # The job row is read across companies, then everything runs for the job's company
    # only (row-level security, tenants/rls.py).
    with rls.session(rls.EVERY_COMPANY):
        job = Job.objects.filter(pk=job_id).first()
    if job is None or job.finished:
        return job
    with rls.session(rls.of_company(job.company_id)):
        return _run(job)


def _run(job: Job) -> Job:
    job.attempts += 1
    if job.attempts > job.max_attempts:
        # Run again after a worker died during the last allowed attempt.
        return _fail(job, job.error or _("The worker running this job stopped."))
    now = timezone.now()
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING,
        attempts=job.attempts,
        started_at=now,
        updated_at=now,
        message=_("Started"),
    )
    job.status = JobStatus.RUNNING
    handler = registry.get(job.kind)
    try:
        result = handler.run(job, Progress(job)) or {}
    except registry.JobFailed as exc:
        return _fail(job, str(exc))
    except Exception as exc:
        logger.exception("job %s (%s) failed, attempt %d", job.pk, job.kind, job.attempts)
        message = f"{type(exc).__name__}: {exc}"
        if job.attempts >= job.max_attempts:
            _fail(job, message)
            raise
        Job.objects.filter(pk=job.pk).update(
            status=JobStatus.QUEUED,
            error=message,
            message=_("Failed (attempt %(attempt)d of %(max)d); it will be tried again.")
            % {"attempt": job.attempts, "max": job.max_attempts},
            updated_at=timezone.now(),
        )
        raise RetryLater(message) from exc
    now = timezone.now()
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.SUCCEEDED,
        result=result,
        error="",
        message=_("Done"),
        finished_at=now,
        updated_at=now,
    )
    job.status, job.result = JobStatus.SUCCEEDED, result
    return job


def _fail(job: Job, message: str) -> Job:
    now = timezone.now()
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.FAILED,
        error=message,
        message=_("Failed"),
        finished_at=now,
        updated_at=now,
        attempts=min(job.attempts, job.max_attempts),
    )
    job.status, job.error = JobStatus.FAILED, message
    handler = registry.get(job.kind)
    if handler.on_failure is not None:
        try:
            handler.on_failure(job, message)
        except Exception:  # the job's own failure is what the user must see
            logger.error("on_failure of job %s failed:\n%s", job.pk, traceback.format_exc())
    return job


def run_inline(job: Job) -> Job | None:
    """Run a job queued with ``queue=False`` in this process, now (``index_memoires
    --now``): the same ``execute`` a worker runs, its attempts one after the other."""
    while True:
        try:
            return execute(job.pk)
        except RetryLater:
            continue
        except Exception:  # the last attempt failed: the job row says why
            return Job.objects.get(pk=job.pk)
