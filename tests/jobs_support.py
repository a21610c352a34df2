"""Running queued background jobs inside a test.

``run_queued_jobs`` calls ``jobs.services.execute`` (what the worker's task runs) for
every queued job, in this test's transaction, so that ordinary tests see a job's result
without a worker. ``run_worker`` runs procrastinate's real worker until the queue is
empty; it reads committed rows only, so its tests use ``django_db(transaction=True)``.
"""

from __future__ import annotations

import contextlib

from procrastinate.contrib.django import app

from jobs import services
from jobs.models import Job, JobStatus


def run_queued_jobs(max_rounds: int = 5) -> list[Job]:
    """Execute queued jobs (retries included, up to ``max_rounds`` passes)."""
    done = []
    for _ in range(max_rounds):
        queued = list(Job.objects.filter(status=JobStatus.QUEUED).order_by("created_at"))
        if not queued:
            break
        for job in queued:
            with contextlib.suppress(Exception):
                services.execute(job.pk)
            done.append(Job.objects.get(pk=job.pk))
    return done


def run_worker(max_runs: int = 10, **options) -> None:
    """procrastinate's worker, on its own connection, until no job is left to do.

    With ``wait=False`` a worker stops when it finds nothing to fetch, which includes a
    job held back by the lock of one still running: it is started again until the
    queue holds no job due now."""
    import threading

    from django.db import connection

    try:
        _run_until_done(max_runs, options, connection)
    finally:
        if threading.current_thread() is not threading.main_thread():
            connection.close()  # this thread's own connection (a test's worker thread)


def _run_until_done(max_runs, options, connection) -> None:
    for _ in range(max_runs):
        with app.replace_connector(app.connector.get_worker_connector()):
            app.run_worker(
                wait=False, install_signal_handlers=False, listen_notify=False, **options
            )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo' "
                "AND (scheduled_at IS NULL OR scheduled_at <= now())"
            )
            if cursor.fetchone()[0] == 0:
                return
