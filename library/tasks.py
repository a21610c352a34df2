"""The library's background jobs (imported in every process by procrastinate's
autodiscovery)."""

from __future__ import annotations

from jobs import registry
from jobs.models import Job, JobKind
from library import embeddings
from library.models import ContentBlock


@registry.handler(JobKind.BLOCK_EMBEDDING)
def embed_block(job: Job, progress) -> dict:
    """Embed one block with the configured backend (after it was saved)."""
    if not ContentBlock.objects.for_company(job.company_id).filter(pk=job.target_id).exists():
        return {"embedded": 0}  # deleted since: nothing to do
    try:
        written = embeddings.embed_blocks(job.company_id, [job.target_id])
    except embeddings.EmbeddingUnavailable as exc:
        raise registry.JobFailed(str(exc)) from None
    progress(1, 1, "")
    return {"embedded": written}
