"""Embeddings of the library's content blocks and past projects, for matching
(projects.matching).

A block is embedded by the configured backend (``rag.embeddings.get_backend``) as a
passage: its title, tags and text; a past project as its name, client, year, type,
lot, description, techniques and success factors. The vector is zero-padded to the
384 dimensions of ``embedding_384`` (cosine similarity is unchanged) next to the name
of the model that made it; a backend of more dimensions is not stored (matching then
reads words only). Saving a block or a past project queues a ``block_embedding`` job
(``queue_embedding``, "library embedding"); ``embed_blocks`` and
``embed_past_projects`` do the work, for the company's rows only.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from library.models import ContentBlock, PastProject

#: Width of content_blocks.embedding_384.
WIDTH = 384
#: Characters of a block embedded (its beginning: title, tags, then the text).
MAX_CHARS = 4000


class EmbeddingUnavailable(Exception):
    """The configured backend's vectors do not fit the column."""


def block_text(block: ContentBlock) -> str:
    tags = ", ".join(block.tags or [])
    return "\n".join(part for part in (block.title, tags, block.content or "") if part)[:MAX_CHARS]


def past_project_text(project: PastProject) -> str:
    metadata = project.metadata if isinstance(project.metadata, dict) else {}
    lot = metadata.get("lot")
    parts = (
        project.name,
        ", ".join(str(p) for p in (project.client, project.year) if p),
        project.project_type or "",
        str(lot) if lot else "",
        project.description or "",
        ", ".join(project.techniques_used or []),
        ", ".join(project.success_factors or []),
    )
    return "\n".join(part for part in parts if part)[:MAX_CHARS]


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


def _embed(model, text_of, company, ids, fields, *, backend, batch: int) -> int:
    from rag.embeddings import pad

    backend = fitting_backend(backend)
    rows = list(model.objects.for_company(company).filter(pk__in=list(ids)).only("pk", *fields))
    written = 0
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        vectors = backend.embed([text_of(row) for row in chunk])
        for row, vector in zip(chunk, vectors, strict=True):
            written += model.objects.filter(pk=row.pk).update(
                embedding_384=pad(vector, WIDTH), embedding_model=backend.model_name
            )
    return written


def embed_blocks(company, block_ids, *, backend=None, batch: int = 32) -> int:
    """Embed the company's blocks ``block_ids`` (another company's ids are ignored);
    returns how many were written."""
    fields = ("title", "content", "tags")
    return _embed(
        ContentBlock, block_text, company, block_ids, fields, backend=backend, batch=batch
    )


def embed_past_projects(company, project_ids, *, backend=None, batch: int = 32) -> int:
    """Embed the company's past projects ``project_ids`` (another company's ids are
    ignored); returns how many were written."""
    fields = (
        "name",
        "client",
        "year",
        "project_type",
        "description",
        "techniques_used",
        "success_factors",
        "metadata",
    )
    return _embed(
        PastProject, past_project_text, company, project_ids, fields, backend=backend, batch=batch
    )


#: What the ``block_embedding`` job embeds, by the ``label_lower`` of its target.
EMBEDDERS = {
    ContentBlock._meta.label_lower: (ContentBlock, embed_blocks),
    PastProject._meta.label_lower: (PastProject, embed_past_projects),
}


def queue_embedding(company, target: ContentBlock | PastProject, *, user=None):
    """Queue the embedding of a block or a past project just saved (a job already
    waiting for it is reused)."""
    from jobs import services as jobs
    from jobs.models import JobKind

    return jobs.enqueue(company, JobKind.BLOCK_EMBEDDING, target, user=user)


def query_vector(text: str, *, backend=None) -> tuple[list[float], str] | None:
    """A requirement's vector for comparing with library embeddings, and its model; None
    when the backend cannot give one that fits."""
    from rag.embeddings import EmbeddingError, pad

    try:
        backend = fitting_backend(backend)
        return pad(backend.embed_query(text), WIDTH), backend.model_name
    except (EmbeddingUnavailable, EmbeddingError):
        return None
