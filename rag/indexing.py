"""Indexing a memoir: text → chunks → embeddings → document_chunks.

It runs as a background job (``rag.tasks``); ``index_memoire`` is the work itself. The
slow part (extraction and embedding) runs outside any transaction; swapping the
memoir's chunks is one short transaction, so re-indexing either replaces all the
chunks or leaves the old ones untouched.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from config.filetypes import MEMOIR_KINDS, sniff
from rag.chunking import chunk_blocks
from rag.embeddings import EmbeddingBackend, get_backend, pad
from rag.extraction import ExtractionError, extract
from rag.models import DocumentChunk, Memoire


class IndexingError(Exception):
    """Indexing cannot succeed as things are (unreadable file, no text…); the memoir
    keeps its previous chunks. The message is for the user."""


@dataclass
class IndexResult:
    memoire: Memoire
    chunks: int
    seconds: float
    model: str


def memoir_kind(data: bytes) -> str:
    kind = sniff(data[:8192], data)
    if kind not in MEMOIR_KINDS:
        raise ExtractionError(
            _("A memoir must be a PDF, DOCX or text file; this file is not one of them.")
        )
    return kind.name


def record_status(memoire_id, status: dict) -> None:
    """Merge ``{"index": status}`` into the memoir's metadata (one UPDATE, no race on
    the other keys)."""
    Memoire.objects.filter(pk=memoire_id).update(
        metadata=RawSQL(
            "coalesce(metadata, '{}'::jsonb) || %s::jsonb", [json.dumps({"index": status})]
        ),
    )


Progress = Callable[..., None]


def index_memoire(
    company,
    memoire_id,
    *,
    backend: EmbeddingBackend | None = None,
    progress: Progress | None = None,
) -> IndexResult:
    """(Re)build the chunks of the company's memoir ``memoire_id`` from its stored file.

    Raises Memoire.DoesNotExist for a memoir the company does not have, IndexingError
    when the file cannot be indexed, EmbeddingError when the embedding backend fails
    (worth trying again).
    """
    memoire = Memoire.objects.for_company(company).get(pk=memoire_id)
    backend = backend or get_backend()
    report = progress or (lambda *args, **kwargs: None)
    started = time.perf_counter()
    report(0, None, _("Reading the document"))
    try:
        with default_storage.open(memoire.storage_path, "rb") as handle:
            data = handle.read()
    except (FileNotFoundError, OSError) as exc:
        raise IndexingError(
            _("The memoir's file cannot be read (%(path)s): %(error)s")
            % {"path": memoire.storage_path, "error": exc}
        ) from exc
    try:
        blocks = extract(data, memoir_kind(data))
    except ExtractionError as exc:
        raise IndexingError(str(exc)) from exc
    chunks = chunk_blocks(blocks, size=settings.RAG_CHUNK_SIZE, overlap=settings.RAG_CHUNK_OVERLAP)
    report(0, len(chunks), _("Embedding the passages"))
    vectors = []
    batch = max(1, backend.batch_size)
    for start in range(0, len(chunks), batch):
        vectors.extend(backend.embed([c.content for c in chunks[start : start + batch]]))
        report(min(start + batch, len(chunks)), len(chunks))

    rows = [
        DocumentChunk(
            memoire_id=memoire.pk,
            content=chunk.content,
            embedding=pad(vector),
            metadata={
                "page": chunk.page,
                "heading": chunk.heading,
                "chunk_index": chunk.index,
                "embedding_model": backend.model_name,
                "embedding_dimensions": backend.dimensions,
            },
        )
        for chunk, vector in zip(chunks, vectors, strict=True)
    ]
    status = {
        "status": "indexed",
        "chunks": len(rows),
        "model": backend.model_name,
        "indexed_at": timezone.now().isoformat(),
        "error": None,
    }
    report(len(chunks), len(chunks), _("Saving the passages"))
    with transaction.atomic():
        locked = Memoire.objects.for_company(company).select_for_update().get(pk=memoire.pk)
        if locked.storage_path != memoire.storage_path:
            # A newer document was uploaded meanwhile: its own indexing wins.
            raise IndexingError(
                _("The memoir's document changed while it was being indexed; nothing was replaced.")
            )
        DocumentChunk.objects.filter(memoire_id=memoire.pk).delete()
        DocumentChunk.objects.bulk_create(rows, batch_size=500)
        locked.indexed = True
        locked.metadata = {**(locked.metadata or {}), "index": status}
        locked.save(update_fields=["indexed", "metadata"])
    memoire.indexed, memoire.metadata = locked.indexed, locked.metadata
    return IndexResult(memoire, len(rows), time.perf_counter() - started, backend.model_name)


def stale_chunk_count(company_id=None, model_name: str | None = None) -> int:
    """Chunks not embedded by the active model (to re-embed after a model change);
    every company's for ``company_id=None`` (platform superusers)."""
    model_name = model_name or get_backend().model_name
    qs = DocumentChunk.objects.exclude(metadata__embedding_model=model_name)
    if company_id is not None:
        qs = qs.for_company(company_id)
    return qs.count()
