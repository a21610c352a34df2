"""Indexing a memoir: text → chunks → embeddings → document_chunks.

The slow part (extraction and embedding) runs outside any transaction; swapping the
memoir's chunks is one short transaction, so re-indexing either replaces all the
chunks or leaves the old ones untouched, and a failure is recorded on the memoir.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from library.filetypes import MEMOIR_KINDS, sniff
from rag.chunking import chunk_blocks
from rag.embeddings import EmbeddingBackend, EmbeddingError, get_backend, pad
from rag.extraction import ExtractionError, extract
from rag.models import DocumentChunk, Memoire


class IndexingError(Exception):
    """Indexing failed; the memoir keeps its previous chunks. Message for the user."""


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


def _record_status(memoire: Memoire, status: dict) -> None:
    """Merge ``{"index": status}`` into the memoir's metadata (one UPDATE, no race on
    the other keys)."""
    Memoire.objects.filter(pk=memoire.pk).update(
        metadata=RawSQL(
            "coalesce(metadata, '{}'::jsonb) || %s::jsonb", [json.dumps({"index": status})]
        ),
    )


def index_memoire(
    memoire: Memoire,
    *,
    backend: EmbeddingBackend | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> IndexResult:
    """(Re)build the memoir's chunks from its stored file."""
    backend = backend or get_backend()
    started = time.perf_counter()
    try:
        try:
            with default_storage.open(memoire.storage_path, "rb") as handle:
                data = handle.read()
        except (FileNotFoundError, OSError) as exc:
            raise IndexingError(
                _("The memoir's file cannot be read (%(path)s): %(error)s")
                % {"path": memoire.storage_path, "error": exc}
            ) from exc
        blocks = extract(data, memoir_kind(data))
        chunks = chunk_blocks(
            blocks,
            size=getattr(settings, "RAG_CHUNK_SIZE", 1000),
            overlap=getattr(settings, "RAG_CHUNK_OVERLAP", 150),
        )
        vectors = []
        batch = max(1, backend.batch_size)
        for start in range(0, len(chunks), batch):
            vectors.extend(backend.embed([c.content for c in chunks[start : start + batch]]))
            if progress:
                progress(min(start + batch, len(chunks)), len(chunks))
    except (ExtractionError, EmbeddingError) as exc:
        _record_status(memoire, _failure(str(exc), backend))
        raise IndexingError(str(exc)) from exc
    except IndexingError as exc:
        _record_status(memoire, _failure(str(exc), backend))
        raise

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
    with transaction.atomic():
        locked = Memoire.objects.select_for_update().get(pk=memoire.pk)
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


def _failure(message: str, backend: EmbeddingBackend) -> dict:
    return {
        "status": "failed",
        "error": message,
        "model": backend.model_name,
        "failed_at": timezone.now().isoformat(),
    }


def memoir_storage_path(company_id, memoire_id, filename: str) -> str:
    """Per-company location of a memoir's file in the storage."""
    name = PurePath(filename).name or "memoire"
    return f"companies/{company_id}/memoires/{memoire_id}/{name}"


def stale_chunk_count(company_id=None, model_name: str | None = None) -> int:
    """Chunks not embedded by the active model (to re-embed after a model change)."""
    model_name = model_name or get_backend().model_name
    qs = DocumentChunk.objects.exclude(metadata__embedding_model=model_name)
    if company_id is not None:
        qs = qs.filter(memoire__company_id=company_id)
    return qs.count()
