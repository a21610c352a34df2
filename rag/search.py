"""Company-scoped hybrid search over memoir chunks.

Two rankings are fused with reciprocal rank fusion (RRF): cosine similarity of
embeddings (meaning) and French full-text rank (exact terms such as "PPSPS" or a
client's name, which embeddings of small models often miss).

The vector side never reads another company's chunks, and never returns fewer than
k results when the company has k chunks, whatever the index does:

* pgvector before 0.8 applies the company filter *after* the approximate index scan,
  so a company holding 1% of the rows gets ~0.1 of k results from the index. For a
  company whose chunks are few enough (``RAG_EXACT_SEARCH_MAX_CHUNKS``), the search is
  exact: its chunks are gathered through the memoire index first, then sorted by
  distance — a few milliseconds;
* for a larger company, the index is used with ``ivfflat.probes`` / ``hnsw.ef_search``
  raised in proportion to how small the company's share of the table is, with
  iterative index scans where the server has pgvector 0.8+, and an exact fallback
  whenever fewer than the wanted number of candidates come back.

Only chunks embedded by the active model are compared with the query.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import FloatField, Func
from pgvector.django import CosineDistance

from config import cache_keys
from config.db.search import FrenchDocument, FrenchQuery
from rag.embeddings import get_backend, pad
from rag.models import DocumentChunk
from tenants.managers import company_pk

RRF_K = 60


@dataclass
class Passage:
    chunk_id: object
    memoire_id: object
    memoire: str
    content: str
    page: int | None
    heading: str | None
    similarity: float | None = None
    text_rank: float | None = None
    score: float = 0.0
    found_by: list[str] = field(default_factory=list)


def _vector_literal(vector) -> str:
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"


@dataclass(frozen=True)
class VectorIndex:
    method: str | None  # "ivfflat", "hnsw" or None
    lists: int = 0


def suited_ivfflat_lists(rows: int) -> int:
    """ivfflat lists for ``rows`` vectors, as pgvector advises: rows / 1000 up to a
    million rows, their square root beyond."""
    return max(10, rows // 1000 if rows <= 1_000_000 else int(math.sqrt(rows)))


def vector_index() -> VectorIndex:
    """The ANN index of document_chunks (read from the catalog at most once a minute:
    tune_vector_index may rebuild it in another process)."""
    return cache_keys.VECTOR_INDEX.get_or_set(_read_vector_index)


def _read_vector_index() -> VectorIndex:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT am.amname, c.reloptions FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam "
            "WHERE i.indrelid = 'document_chunks'::regclass AND am.amname IN ('ivfflat', 'hnsw') "
            "LIMIT 1"
        )
        row = cursor.fetchone()
    if not row:
        return VectorIndex(None)
    options = dict(opt.split("=", 1) for opt in (row[1] or []))
    return VectorIndex(row[0], int(options.get("lists", 100)))


def pgvector_version() -> tuple[int, ...]:
    return cache_keys.PGVECTOR_VERSION.get_or_set(_read_pgvector_version)


def _read_pgvector_version() -> tuple[int, ...]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        row = cursor.fetchone()
    return tuple(int(x) for x in re.findall(r"\d+", row[0])) if row else (0,)


def company_chunk_count(company_id, model_name: str) -> int:
    """Chunks of the company embedded by ``model_name`` (cached for a minute)."""
    embedded = DocumentChunk.objects.filter(
        memoire__company_id=company_id,
        embedding__isnull=False,
        metadata__embedding_model=model_name,
    )
    return cache_keys.CHUNK_COUNT.get_or_set(embedded.count, company=company_id, model=model_name)


def _table_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = 'document_chunks'::regclass"
        )
        return int(cursor.fetchone()[0])


_SCOPE = """
    FROM document_chunks c JOIN memoires m ON m.id = c.memoire_id
    WHERE m.company_id = %(company)s AND c.embedding IS NOT NULL
      AND c.metadata->>'embedding_model' = %(model)s
      AND (%(memoires)s::uuid[] IS NULL OR c.memoire_id = ANY(%(memoires)s::uuid[]))
"""


def _exact(params: dict, n: int) -> list[tuple]:
    sql = f"""
        WITH scoped AS MATERIALIZED (SELECT c.id, c.embedding {_SCOPE})
        SELECT id, embedding <=> %(vector)s::vector AS distance
        FROM scoped ORDER BY distance LIMIT {int(n)}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


#: HNSW candidates per wanted result of the company, before its filter. The graph
#: walk ends in the right neighbourhood often but not always: measured over 400 queries
#: on 100,000 clustered chunks (docs/performance.md), twice the company's expected
#: share (ef_search 160 for 40 results at 50 %) left two queries with under 8 of their
#: 10 nearest (one with none), while four times it found at least 9 for every query,
#: for 0.8 ms more.
HNSW_CANDIDATES_PER_RESULT = 4


def hnsw_ef_search(n: int, share: float) -> int:
    """``hnsw.ef_search`` for ``n`` results of a company holding ``share`` of the rows."""
    wanted = HNSW_CANDIDATES_PER_RESULT * n / max(share, 1e-6)
    return min(1000, max(100, math.ceil(wanted)))


def _indexed(params: dict, n: int, share: float) -> list[tuple]:
    index = vector_index()
    settings_sql = []
    if index.method == "ivfflat":
        floor = max(1, round(math.sqrt(index.lists)))
        probes = min(index.lists, max(floor, math.ceil(floor / max(share, 1e-6))))
        settings_sql.append(f"SET LOCAL ivfflat.probes = {probes}")
    elif index.method == "hnsw":
        settings_sql.append(f"SET LOCAL hnsw.ef_search = {hnsw_ef_search(n, share)}")
    if index.method and pgvector_version() >= (0, 8):
        settings_sql.append(f"SET LOCAL {index.method}.iterative_scan = relaxed_order")
    sql = f"""
        SELECT c.id, c.embedding <=> %(vector)s::vector AS distance {_SCOPE}
        ORDER BY c.embedding <=> %(vector)s::vector LIMIT {int(n)}
    """
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in settings_sql:
            cursor.execute(statement)
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return sorted(rows, key=lambda r: r[1])


def vector_candidates(
    company_id, vector, model_name: str, n: int, memoire_ids=None
) -> tuple[list[tuple], str]:
    """``[(chunk_id, distance)]`` nearest first, and the plan used."""
    params = {
        "company": company_id,
        "model": model_name,
        "memoires": list(memoire_ids) if memoire_ids else None,
        "vector": _vector_literal(pad(vector)),
    }
    own = company_chunk_count(company_id, model_name)
    threshold = settings.RAG_EXACT_SEARCH_MAX_CHUNKS
    if memoire_ids or own <= threshold or vector_index().method is None:
        return _exact(params, n), "exact"
    share = own / max(_table_rows(), own, 1)
    rows = _indexed(params, n, share)
    if len(rows) < min(n, own):
        return _exact(params, n), "exact (fallback)"
    return rows, "index"


#: Full-text matches ranked per query. Ranking recomputes each match's document, so
#: a common word in a big company's memoirs would rank tens of thousands of chunks;
#: the fusion only needs the best few dozen.
TEXT_MATCHES_RANKED = 500


def text_candidates(company_id, query: str, n: int, memoire_ids=None) -> list[tuple]:
    """``[(chunk_id, rank)]`` by French full-text rank."""
    matches = DocumentChunk.objects.filter(memoire__company_id=company_id)
    if memoire_ids:
        matches = matches.filter(memoire_id__in=memoire_ids)
    matches = matches.alias(document=FrenchDocument("content")).filter(document=FrenchQuery(query))
    ranked = (
        DocumentChunk.objects.filter(pk__in=matches.values("pk")[:TEXT_MATCHES_RANKED])
        .annotate(
            rank=Func(
                FrenchDocument("content"),
                FrenchQuery(query),
                function="ts_rank_cd",
                output_field=FloatField(),
            )
        )
        .order_by("-rank")
        .values_list("pk", "rank")[:n]
    )
    return list(ranked)


def search_passages(
    company, query: str, *, k: int = 10, memoire_ids=None, backend=None
) -> tuple[list[Passage], dict]:
    """The ``k`` best passages of the company's memoirs for ``query``, and facts
    about how they were found (plan, candidates)."""
    query = (query or "").strip()
    if not query:
        return [], {}
    company_id = company_pk(company)
    backend = backend or get_backend()
    n = max(4 * k, 40)
    vector = backend.embed_query(query)
    vector_hits, plan = vector_candidates(company_id, vector, backend.model_name, n, memoire_ids)
    text_hits = text_candidates(company_id, query, n, memoire_ids)

    scores: dict = {}
    found: dict = {}
    for source, hits in (("vector", vector_hits), ("text", text_hits)):
        for rank, (chunk_id, _value) in enumerate(hits, start=1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank)
            found.setdefault(chunk_id, []).append(source)
    best = sorted(scores, key=scores.get, reverse=True)[:k]
    distances = dict(vector_hits)
    ranks = dict(text_hits)

    rows = {
        c.pk: c
        for c in DocumentChunk.objects.filter(pk__in=best, memoire__company_id=company_id)
        .select_related("memoire")
        .annotate(distance=CosineDistance("embedding", pad(vector)))
        .only("pk", "content", "metadata", "memoire_id", "memoire__filename")
    }
    passages = []
    for chunk_id in best:
        chunk = rows.get(chunk_id)
        if chunk is None:
            continue
        meta = chunk.metadata or {}
        distance = distances.get(chunk_id)
        if distance is None and meta.get("embedding_model") == backend.model_name:
            distance = chunk.distance  # found by text only: still show its similarity
        passages.append(
            Passage(
                chunk_id=chunk.pk,
                memoire_id=chunk.memoire_id,
                memoire=chunk.memoire.filename,
                content=chunk.content,
                page=meta.get("page"),
                heading=meta.get("heading"),
                similarity=None if distance is None else 1 - float(distance),
                text_rank=ranks.get(chunk_id),
                score=scores[chunk_id],
                found_by=found[chunk_id],
            )
        )
    return passages, {"plan": plan, "vector": len(vector_hits), "text": len(text_hits)}
