"""The library's background jobs (imported in every process by procrastinate's
autodiscovery)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from jobs import registry
from jobs.models import Job, JobKind
from library import embeddings


@registry.handler(JobKind.BLOCK_EMBEDDING)
def embed_block(job: Job, progress) -> dict:
    """Embed one block, or one past project, with the configured backend (after it was
    saved)."""
    try:
        model, embed = embeddings.EMBEDDERS[job.target_type]
    except KeyError:
        raise registry.JobFailed(
            _("Unknown kind of library content: %(type)s.") % {"type": job.target_type}
        ) from None
    if not model.objects.for_company(job.company_id).filter(pk=job.target_id).exists():
        return {"embedded": 0}  # deleted since: nothing to do
    try:
        written = embed(job.company_id, [job.target_id])
    except embeddings.EmbeddingUnavailable as exc:
        raise registry.JobFailed(str(exc)) from None
    progress(1, 1, "")
    return {"embedded": written}
