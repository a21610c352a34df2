"""The queue's side: the procrastinate tasks that run jobs.

One task runs every kind of job (``jobs.run``), looked up in ``jobs.registry``; it is
deferred with the job's object as its ``lock``, so two jobs on one memoir never run at
once. A second, periodic task gives the jobs of a worker that died (no heartbeat for
``JOBS_STALLED_WORKER_SECONDS``) back to the queue; ``execute`` counts that run as an
attempt, so a job that kills its worker is not retried forever.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import close_old_connections
from procrastinate import RetryDecision
from procrastinate.contrib.django import app
from procrastinate.retry import BaseRetryStrategy

from jobs import services

logger = logging.getLogger(__name__)


class Backoff(BaseRetryStrategy):
    """Retry what ``execute`` asked to retry (``RetryLater``), after
    ``JOBS_RETRY_BACKOFF_SECONDS`` × 2^(attempt - 1). ``execute`` decides how many
    attempts a job gets, from its own row (which also counts runs cut short by a dead
    worker); anything else raised means the job failed for good."""

    def get_retry_decision(self, *, exception, job):
        if not isinstance(exception, services.RetryLater):
            return None
        delay = settings.JOBS_RETRY_BACKOFF_SECONDS * 2**job.attempts
        return RetryDecision(retry_in={"seconds": delay})


@app.task(name=services.RUN_JOB_TASK, retry=Backoff())
def run_job(job_id: str) -> None:
    # Sync tasks run in threads of the worker's pool: the Django connection they open
    # belongs to that thread, so it is closed here, as a request's would be.
    close_old_connections()
    try:
        services.execute(job_id)
    finally:
        close_old_connections()


@app.periodic(cron="* * * * *", periodic_id="retry-stalled-jobs")
@app.task(name="jobs.retry_stalled", queueing_lock="jobs.retry_stalled")
async def retry_stalled_jobs(timestamp: int) -> None:
    stalled = await app.job_manager.get_stalled_jobs(
        task_name=services.RUN_JOB_TASK,
        seconds_since_heartbeat=settings.JOBS_STALLED_WORKER_SECONDS,
    )
    for job in stalled:
        logger.warning("job %s of a stopped worker goes back to the queue", job.id)
        await app.job_manager.retry_job(job)
