"""Indexing a memoir: text → chunks → embeddings → document_chunks.

It runs as a background job (``rag.tasks``); ``index_memoire`` is the work itself. The
slow part (extraction and embedding) runs outside any transaction; swapping the
memoir's chunks is one short transaction, so re-indexing either replaces all the
chunks or leaves the old ones untouched.

Each chunk is embedded with its context — the memoir's title and the heading path —
before its text, and both are stored in its metadata, from which its full-text
document is generated (``search_document``). ``reembed_memoire`` re-embeds the chunks
of another model (after a change of model) from their stored text, without the file.
"""

from __future__ import annotations

import hashlib
import json
import re
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

from config import cache_keys
from config.filetypes import MEMOIR_KINDS, sniff
from rag import lexemes
from rag.chunking import chunk_blocks, embedded_text
from rag.embeddings import EmbeddingBackend, get_backend, pad
from rag.extraction import ExtractionError, extract_document
from rag.models import EMBEDDING_DIMENSIONS, DocumentChunk, Memoire, vector_column


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


def memoir_title(memoire: Memoire, document_title: str | None = None) -> str:
    """The title a memoir's chunks are indexed with: the document's own, else its file
    name made readable ("memoire_college-jean-moulin.pdf" → "memoire college jean
    moulin"), followed by the memoir's client when the title does not name it (the
    client is what "what did we do for X?" asks about)."""
    title = (
        document_title or re.sub(r"[\s_\-.]+", " ", PurePath(memoire.filename or "").stem).strip()
    )
    title = title or memoire.filename
    client = (memoire.client or "").strip()
    if client and client.lower() not in title.lower():
        title = f"{title} — {client}"
    return title[:300]


def vector_fields(backend: EmbeddingBackend, vector) -> dict:
    """The chunk fields that store ``vector`` of ``backend``: its column holds it, the
    other is cleared (a chunk has one vector, of the model its metadata names)."""
    column = vector_column(backend.dimensions)
    if column == "embedding":
        return {"embedding": pad(vector, EMBEDDING_DIMENSIONS), "embedding_384": None}
    return {"embedding_384": list(vector), "embedding": None}


def _embed(backend: EmbeddingBackend, texts: list[str], report: Progress) -> list:
    """Vectors of ``texts``; a text repeated in the memoir is embedded once."""
    unique = list(dict.fromkeys(texts))
    vectors: dict[str, list[float]] = {}
    batch = max(1, backend.batch_size)
    for start in range(0, len(unique), batch):
        part = unique[start : start + batch]
        vectors.update(zip(part, backend.embed(part), strict=True))
        done = min(start + batch, len(unique))
        report(round(done * len(texts) / max(1, len(unique))), len(texts))
    return [vectors[t] for t in texts]


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
        document = extract_document(data, memoir_kind(data))
    except ExtractionError as exc:
        raise IndexingError(str(exc)) from exc
    title = memoir_title(memoire, document.title)
    chunks = chunk_blocks(
        document.blocks, size=settings.RAG_CHUNK_SIZE, overlap=settings.RAG_CHUNK_OVERLAP
    )
    report(0, len(chunks), _("Embedding the passages"))
    vectors = _embed(backend, [embedded_text(c.content, title, c.heading) for c in chunks], report)

    rows = [
        DocumentChunk(
            memoire_id=memoire.pk,
            company_id=memoire.company_id,
            content=chunk.content,
            **vector_fields(backend, vector),
            metadata={
                "page": chunk.page,
                "heading": chunk.heading,
                "title": title,
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
        "title": title,
        "indexed_at": timezone.now().isoformat(),
        "error": None,
    }
    digest = hashlib.sha256(data).hexdigest()
    report(len(chunks), len(chunks), _("Saving the passages"))
    with transaction.atomic():
        locked = Memoire.objects.for_company(company).select_for_update().get(pk=memoire.pk)
        if locked.storage_path != memoire.storage_path:
            # A newer document was uploaded meanwhile: its own indexing wins.
            raise IndexingError(
                _("The memoir's document changed while it was being indexed; nothing was replaced.")
            )
        lexemes.remove_memoir(locked.company_id, memoire.pk)
        DocumentChunk.objects.filter(memoire_id=memoire.pk).delete()
        DocumentChunk.objects.bulk_create(rows, batch_size=500)
        lexemes.add_memoir(locked.company_id, memoire.pk)
        locked.indexed = True
        locked.metadata = {**(locked.metadata or {}), "index": status}
        fields = ["indexed", "metadata"]
        if locked.sha256 is None and not (
            Memoire.objects.for_company(locked.company_id).filter(sha256=digest).exists()
        ):
            locked.sha256 = digest  # memoirs uploaded before hashes were kept
            fields.append("sha256")
        locked.save(update_fields=fields)
    cache_keys.CHUNK_COUNT.delete(company=locked.company_id, model=backend.model_name)
    memoire.indexed, memoire.metadata = locked.indexed, locked.metadata
    return IndexResult(memoire, len(rows), time.perf_counter() - started, backend.model_name)


#: Chunks re-embedded per transaction: a re-embedding stopped half-way keeps what it
#: did (each chunk records its model) and the next run does the rest.
REEMBED_BATCH = 64


def reembed_memoire(
    company,
    memoire_id,
    *,
    backend: EmbeddingBackend | None = None,
    progress: Progress | None = None,
) -> IndexResult:
    """Embed again, with the active model, the chunks of the memoir that another model
    embedded (or none), from their stored text and context: no file needed, so legacy
    memoirs whose documents are gone are re-embedded too."""
    memoire = Memoire.objects.for_company(company).get(pk=memoire_id)
    backend = backend or get_backend()
    report = progress or (lambda *args, **kwargs: None)
    started = time.perf_counter()
    stale = DocumentChunk.objects.filter(memoire_id=memoire.pk).exclude(
        metadata__embedding_model=backend.model_name
    )
    total = stale.count()
    report(0, total, _("Embedding the passages"))
    done = 0
    while True:
        batch = list(stale.defer("embedding", "embedding_384").order_by("id")[:REEMBED_BATCH])
        if not batch:
            break
        texts = [
            embedded_text(
                chunk.content,
                (chunk.metadata or {}).get("title") or memoir_title(memoire),
                (chunk.metadata or {}).get("heading"),
            )
            for chunk in batch
        ]
        vectors = backend.embed(texts)
        with transaction.atomic():
            for chunk, vector in zip(batch, vectors, strict=True):
                metadata = {
                    **(chunk.metadata or {}),
                    "title": (chunk.metadata or {}).get("title") or memoir_title(memoire),
                    "embedding_model": backend.model_name,
                    "embedding_dimensions": backend.dimensions,
                }
                DocumentChunk.objects.filter(pk=chunk.pk).update(
                    **vector_fields(backend, vector), metadata=metadata
                )
        done += len(batch)
        report(done, max(total, done))
    cache_keys.CHUNK_COUNT.delete(company=memoire.company_id, model=backend.model_name)
    record_status(
        memoire.pk,
        {
            **((memoire.metadata or {}).get("index") or {}),
            "status": "indexed",
            "chunks": DocumentChunk.objects.filter(memoire_id=memoire.pk).count(),
            "model": backend.model_name,
            "indexed_at": timezone.now().isoformat(),
            "error": None,
        },
    )
    return IndexResult(memoire, done, time.perf_counter() - started, backend.model_name)


def stale_chunk_count(company_id=None, model_name: str | None = None) -> int:
    """Chunks not embedded by the active model (to re-embed after a model change);
    every company's for ``company_id=None`` (platform superusers)."""
    model_name = model_name or get_backend().model_name
    qs = DocumentChunk.objects.exclude(metadata__embedding_model=model_name)
    if company_id is not None:
        qs = qs.for_company(company_id)
    return qs.count()
