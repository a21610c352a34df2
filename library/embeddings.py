"""Embeddings of the library's content blocks, for matching (projects.matching).

A block is embedded by the configured backend (``rag.embeddings.get_backend``) as a
passage: its title, tags and text. The vector is zero-padded to the 384 dimensions of
``content_blocks.embedding_384`` (cosine similarity is unchanged) next to the name of
the model that made it; a backend of more dimensions is not stored (matching then
reads words only). Saving a block queues a ``block_embedding`` job
(``queue_embedding``); ``embed_blocks`` does the work, for the company's blocks only.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from library.models import ContentBlock

#: Width of content_blocks.embedding_384.
WIDTH = 384
#: Characters of a block embedded (its beginning: title, tags, then the text).
MAX_CHARS = 4000


class EmbeddingUnavailable(Exception):
    """The configured backend's vectors do not fit the column."""


def block_text(block: ContentBlock) -> str:
    tags = ", ".join(block.tags or [])
    return "\n".join(part for part in (block.title, tags, block.content or "") if part)[:MAX_CHARS]


def fitting_backend(backend=None):
    """The configured backend, when its vectors fit the column."""
    from rag.embeddings import get_backend

    backend = backend or get_backend()
    if int(getattr(backend, "dimensions", 0) or 0) > WIDTH:
        raise EmbeddingUnavailable(
            _(
                "The embedding model %(model)s gives %(n)s dimensions: library blocks "
                "keep at most %(width)s; matching reads their words only."
            )
            % {"model": backend.model_name, "n": backend.dimensions, "width": WIDTH}
        )
    return backend


def embed_blocks(company, block_ids, *, backend=None, batch: int = 32) -> int:
    """Embed the company's blocks ``block_ids`` (another company's ids are ignored);
    returns how many were written."""
    from rag.embeddings import pad

    backend = fitting_backend(backend)
    blocks = list(
        ContentBlock.objects.for_company(company)
        .filter(pk__in=list(block_ids))
        .only("pk", "title", "content", "tags")
    )
    written = 0
    for start in range(0, len(blocks), batch):
        chunk = blocks[start : start + batch]
        vectors = backend.embed([block_text(b) for b in chunk])
        for block, vector in zip(chunk, vectors, strict=True):
            written += ContentBlock.objects.filter(pk=block.pk).update(
                embedding_384=pad(vector, WIDTH), embedding_model=backend.model_name
            )
    return written


def queue_embedding(company, block: ContentBlock, *, user=None):
    """Queue the embedding of a block just saved (a job already waiting for it is
    reused)."""
    from jobs import services as jobs
    from jobs.models import JobKind

    return jobs.enqueue(company, JobKind.BLOCK_EMBEDDING, block, user=user)


def query_vector(text: str, *, backend=None) -> tuple[list[float], str] | None:
    """A requirement's vector for comparing with block embeddings, and its model; None
    when the backend cannot give one that fits."""
    from rag.embeddings import EmbeddingError, pad

    try:
        backend = fitting_backend(backend)
        return pad(backend.embed_query(text), WIDTH), backend.model_name
    except (EmbeddingUnavailable, EmbeddingError):
        return None
