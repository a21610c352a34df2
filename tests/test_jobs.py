"""Background jobs through the real queue: procrastinate's worker runs in the test,
on its own database connection (so these tests commit: ``transaction=True``)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from procrastinate.contrib.django import app

from config import storage
from jobs import registry, services
from jobs.models import Job, JobKind, JobStatus
from jobs.tasks import retry_stalled_jobs
from rag.models import DocumentChunk
from rag.tasks import queue_indexing
from tests.documents import make_pdf
from tests.factories import CompanyFactory, MemoireFactory, UserFactory
from tests.jobs_support import run_queued_jobs, run_worker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _empty_queue(django_db_blocker):
    """The queue's tables are not the project's models: flushing leaves them as they
    are, so each test starts from an empty queue of its own."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs; DELETE FROM procrastinate_workers")
    yield


@pytest.fixture(autouse=True)
def _fast_queue(settings, tmp_path):
    settings.RAG_EMBEDDING_BACKEND = "tests.fake_embeddings.HashingBackend"
    settings.RAG_EMBEDDING_OPTIONS = {}
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.JOBS_RETRY_BACKOFF_SECONDS = 0  # retries are due at once


def _memoire(company, text="Le PPSPS décrit les mesures de prévention des risques."):
    memoire = MemoireFactory(company=company, uploaded_by=None, filename="m.pdf")
    memoire.storage_path = default_storage.save(
        storage.memoir_path(company.pk, memoire.pk, "m.pdf"),
        ContentFile(make_pdf([["SÉCURITÉ", text]])),
    )
    memoire.save(update_fields=["storage_path"])
    return memoire


@pytest.fixture
def handler(monkeypatch):
    """Replace the memoir indexing handler by ``run`` for one test."""

    def install(run, on_failure=None):
        monkeypatch.setitem(
            registry._HANDLERS, JobKind.MEMOIR_INDEXING, registry.Handler(run, on_failure)
        )

    return install


def test_the_worker_indexes_a_queued_memoir_and_reports_progress():
    user = UserFactory()
    memoire = _memoire(user.company)
    job = queue_indexing(user.company, memoire, user=user)
    assert Job.objects.get(pk=job.pk).status == JobStatus.QUEUED

    run_worker()

    job.refresh_from_db()
    assert (job.status, job.attempts, job.error) == (JobStatus.SUCCEEDED, 1, "")
    assert job.progress_done == job.progress_total == 1 and job.result["chunks"] == 1
    assert DocumentChunk.objects.filter(memoire=memoire).count() == 1
    memoire.refresh_from_db()
    assert memoire.indexed and memoire.metadata["index"]["status"] == "indexed"


def test_a_failing_job_is_retried_with_backoff_then_succeeds(handler, settings):
    calls = []

    def flaky(job, progress):
        calls.append(job.attempts)
        if len(calls) == 1:
            raise ConnectionError("embedding API unreachable")
        return {"ok": True}

    handler(flaky)
    job = services.enqueue(
        CompanyFactory(), JobKind.MEMOIR_INDEXING, _memoire(CompanyFactory()).company
    )
    job.refresh_from_db()

    run_worker()

    job.refresh_from_db()
    assert calls == [1, 2]
    assert (job.status, job.attempts, job.result) == (JobStatus.SUCCEEDED, 2, {"ok": True})


def test_a_job_that_keeps_failing_stops_after_its_attempts_with_the_error(handler):
    failures = []
    handler(lambda job, progress: 1 / 0, on_failure=lambda job, message: failures.append(message))
    company = CompanyFactory()
    job = services.enqueue(company, JobKind.MEMOIR_INDEXING, company)

    run_worker()

    job.refresh_from_db()
    assert (job.status, job.attempts, job.max_attempts) == (JobStatus.FAILED, 3, 3)
    assert "ZeroDivisionError" in job.error and failures == [job.error]


def test_a_permanent_failure_is_not_retried(handler):
    handler(lambda job, progress: (_ for _ in ()).throw(registry.JobFailed("Fichier illisible.")))
    company = CompanyFactory()
    job = services.enqueue(company, JobKind.MEMOIR_INDEXING, company)

    run_worker()

    job.refresh_from_db()
    assert (job.status, job.attempts, job.error) == (JobStatus.FAILED, 1, "Fichier illisible.")


def test_two_jobs_on_one_memoir_never_run_at_once(handler):
    runs, lock = [], threading.Lock()

    def slow(job, progress):
        started = time.monotonic()
        time.sleep(0.4)
        with lock:
            runs.append((str(job.target_id), started, time.monotonic()))

    handler(slow)
    company = CompanyFactory()
    one, other = _memoire(company), _memoire(company)
    for target, n in ((one, 1), (one, 2), (other, 1)):
        services.enqueue(company, JobKind.MEMOIR_INDEXING, target, params={"n": n})

    run_worker(concurrency=3)

    assert len(runs) == 3
    same = sorted((start, end) for target, start, end in runs if target == str(one.pk))
    assert same[0][1] <= same[1][0], "the two jobs of one memoir overlapped"
    (other_run,) = [(start, end) for target, start, end in runs if target == str(other.pk)]
    assert other_run[0] < same[0][1], "jobs of different memoirs should run side by side"


def test_a_second_request_while_a_job_waits_reuses_it():
    company = CompanyFactory()
    memoire = _memoire(company)
    first = queue_indexing(company, memoire)
    assert queue_indexing(company, memoire).pk == first.pk
    assert Job.objects.count() == 1


def test_the_jobs_of_a_dead_worker_go_back_to_the_queue_and_count_as_attempts(handler):
    seen = []
    handler(lambda job, progress: seen.append(job.attempts) or {"resumed": True})
    company = CompanyFactory()
    job = services.enqueue(company, JobKind.MEMOIR_INDEXING, company)

    async def take_and_die():
        """A worker fetches the job (ours shows it running) and vanishes: no heartbeat."""
        async with app.open_async():
            worker_id = await app.job_manager.register_worker()
            fetched = await app.job_manager.fetch_job(queues=None, worker_id=worker_id)
            assert fetched.id == job.queue_job_id
            await app.job_manager.connector.execute_query_async(
                "UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour' "
                "WHERE id = %(id)s",
                id=worker_id,
            )

    async def another_worker_checks():
        async with app.open_async():
            await retry_stalled_jobs(timestamp=0)

    with app.replace_connector(app.connector.get_worker_connector()):
        asyncio.run(take_and_die())
        Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, attempts=1)
        asyncio.run(another_worker_checks())
    run_worker()

    job.refresh_from_db()
    assert seen == [2] and (job.status, job.attempts) == (JobStatus.SUCCEEDED, 2)


def test_a_job_run_again_after_its_last_attempt_fails_instead_of_running(handler):
    handler(lambda job, progress: pytest.fail("must not run"))
    company = CompanyFactory()
    job = services.enqueue(company, JobKind.MEMOIR_INDEXING, company, queue=False)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, attempts=job.max_attempts)

    services.execute(job.pk)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.attempts == job.max_attempts
    assert job.error in (
        "The worker running this job stopped.",
        "Le processus qui exécutait cette tâche s’est arrêté.",
    )


def test_a_job_cannot_be_queued_on_another_companys_object():
    """``enqueue`` refuses an object of another company: a job always acts for the
    company that owns its object."""
    mine, theirs = CompanyFactory(), CompanyFactory()
    with pytest.raises(LookupError):
        services.enqueue(mine, JobKind.MEMOIR_INDEXING, _memoire(theirs))
    assert not Job.objects.exists() and run_queued_jobs() == []
