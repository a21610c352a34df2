"""The project app's background jobs (imported in every process by procrastinate's
autodiscovery)."""

from __future__ import annotations

from jobs import registry
from jobs.models import Job, JobKind
from projects import matching
from projects.memoir import export, generation
from projects.rc import services


@registry.handler(JobKind.RC_ANALYSIS, on_failure=services.failed)
def analyse_rc(job: Job, progress) -> dict:
    return services.run(job, progress)


@registry.handler(JobKind.MATCHING, on_failure=matching.failed)
def match_content(job: Job, progress) -> dict:
    return matching.run_job(job, progress)


@registry.handler(JobKind.GENERATION, on_failure=generation.failed)
def generate_memoir(job: Job, progress) -> dict:
    return generation.run(job, progress)


@registry.handler(JobKind.EXPORT)
def export_memoir(job: Job, progress) -> dict:
    return export.run(job, progress)
