"""Company-scoped hybrid search over memoir chunks.

Two rankings are fused with weighted reciprocal rank fusion (RRF): cosine similarity
of embeddings (meaning, rewordings, typos) and full-text rank for questions
(``rag.fulltext``: exact terms such as "PPSPS" or a client's name). Then:

* near-duplicate passages (a paragraph repeated in several memoirs) are collapsed:
  the best one is shown with the others as its "similar" passages;
* passages found by meaning alone below the model's similarity floor, and by words
  alone on a small share of the question's weight, are noise: when nothing else is
  left the search says it found nothing relevant instead of returning them.

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

Only chunks embedded by the active model are compared with the query, in the column
of its width (``rag.models.vector_column``).
"""

from __future__ import annotations

import json
import math
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction

from config import cache_keys
from rag import fulltext
from rag.embeddings import get_backend, pad, similarity_floor
from rag.models import EMBEDDING_DIMENSIONS, vector_column
from rag.vector_index import INDEXES, suited_ivfflat_lists
from tenants.managers import company_pk

__all__ = [
    "Passage",
    "search_passages",
    "suited_ivfflat_lists",
    "text_candidates",
    "vector_candidates",
]


@dataclass(frozen=True)
class Fusion:
    """Weighted reciprocal rank fusion: score = Σ weight / (k + rank)."""

    k: int
    vector_weight: float
    text_weight: float


#: Chosen on the labelled set of rag/evaluation (``evaluate_search --sweep``,
#: docs/performance.md).
FUSION = Fusion(k=10, vector_weight=1.0, text_weight=0.7)
#: A passage found by words only is kept when its words make this share of the
#: question's weight (rarer words weigh more): "Oppidea" alone is enough, "prix" in a
#: question about caviar is not.
TEXT_COVERAGE_FLOOR = 0.5
#: Two passages whose 3-word shingles overlap this much are one passage repeated.
DUPLICATE_JACCARD = 0.7


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
    #: Near-duplicates of this passage found by the same search (collapsed into it).
    similar: list[Passage] = field(default_factory=list)


def _vector_literal(vector) -> str:
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"


def _column_for(vector) -> tuple[str, list[float]]:
    """The column compared with ``vector``, and the vector as that column stores it."""
    column = vector_column(len(vector))
    if column == "embedding" and len(vector) != EMBEDDING_DIMENSIONS:
        vector = pad(vector)
    return column, list(vector)


@dataclass(frozen=True)
class VectorIndex:
    method: str | None  # "ivfflat", "hnsw" or None
    lists: int = 0


def vector_index(column: str = "embedding") -> VectorIndex:
    """The ANN index of ``column`` (read from the catalog at most once a minute: the
    vector index job may rebuild it in another process)."""
    return cache_keys.VECTOR_INDEX.get_or_set(lambda: _read_vector_index(column), column=column)


def _read_vector_index(column: str) -> VectorIndex:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT am.amname, c.reloptions FROM pg_class c JOIN pg_am am ON am.oid = c.relam "
            "WHERE c.relname = %s AND c.relkind = 'i' AND am.amname IN ('ivfflat', 'hnsw')",
            [INDEXES[column]],
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

    def count() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM document_chunks c JOIN memoires m ON m.id = c.memoire_id "
                "WHERE m.company_id = %s AND c.metadata->>'embedding_model' = %s",
                [company_id, model_name],
            )
            return cursor.fetchone()[0]

    return cache_keys.CHUNK_COUNT.get_or_set(count, company=company_id, model=model_name)


def _table_rows() -> int:
    def read() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT greatest(reltuples, 0)::bigint FROM pg_class "
                "WHERE oid = 'document_chunks'::regclass"
            )
            return int(cursor.fetchone()[0])

    return cache_keys.CHUNK_TABLE_ROWS.get_or_set(read)


def _scope(column: str | None = None) -> str:
    """FROM/WHERE of the company's chunks (of the active model, when ``column``)."""
    vector = (
        f" AND c.{column} IS NOT NULL AND c.metadata->>'embedding_model' = %(model)s"
        if column
        else ""
    )
    return f"""
        FROM document_chunks c JOIN memoires m ON m.id = c.memoire_id
        WHERE m.company_id = %(company)s{vector}
          AND (%(memoires)s::uuid[] IS NULL OR c.memoire_id = ANY(%(memoires)s::uuid[]))
    """


def _exact(params: dict, n: int, column: str) -> list[tuple]:
    # "+ 0": an order the vector index cannot give, so every chunk of the company is
    # compared (the index would return its own nearest, mostly other companies', and
    # filter them). Not a MATERIALIZED CTE: copying 5,000 vectors into one cost 8 ms.
    sql = f"""
        SELECT c.id, c.{column} <=> %(vector)s::vector AS distance {_scope(column)}
        ORDER BY (c.{column} <=> %(vector)s::vector) + 0, c.id LIMIT {int(n)}
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


#: The most index rows read for one search before the company's are kept.
INDEX_CANDIDATES_MAX = 10_000


def hnsw_ef_search(n: int, share: float) -> int:
    """``hnsw.ef_search`` for ``n`` results of a company holding ``share`` of the rows."""
    wanted = HNSW_CANDIDATES_PER_RESULT * n / max(share, 1e-6)
    return min(1000, max(100, math.ceil(wanted)))


def _indexed(params: dict, n: int, share: float, column: str) -> list[tuple]:
    index = vector_index(column)
    settings_sql = []
    if index.method == "ivfflat":
        floor = max(1, round(math.sqrt(index.lists)))
        probes = min(index.lists, max(floor, math.ceil(floor / max(share, 1e-6))))
        settings_sql.append(f"SET LOCAL ivfflat.probes = {probes}")
    elif index.method == "hnsw":
        settings_sql.append(f"SET LOCAL hnsw.ef_search = {hnsw_ef_search(n, share)}")
    if index.method and pgvector_version() >= (0, 8):
        settings_sql.append(f"SET LOCAL {index.method}.iterative_scan = relaxed_order")
    # The index's nearest rows first, the company's and the model's kept after: the
    # planner cannot estimate the model's JSON key nor the row-level security policy, and
    # with both in one WHERE it guessed a few dozen rows and sorted the company's 50,000
    # chunks instead of walking the index (88 ms instead of 5). The index returns at most
    # its ef_search (or the probed lists') rows whatever the LIMIT, as it did filtered.
    candidates = min(
        INDEX_CANDIDATES_MAX, math.ceil(HNSW_CANDIDATES_PER_RESULT * n / max(share, 1e-6))
    )
    if index.method == "hnsw":
        # No more than the graph walk returns: a bigger LIMIT makes the planner prefer
        # sorting every row (5 % company: 67 ms instead of 8).
        candidates = hnsw_ef_search(n, share)
    sql = f"""
        SELECT id, distance FROM (
            SELECT c.id, c.company_id, c.metadata->>'embedding_model' AS model,
                   c.{column} <=> %(vector)s::vector AS distance
            FROM document_chunks c WHERE c.{column} IS NOT NULL
            ORDER BY c.{column} <=> %(vector)s::vector LIMIT {int(max(candidates, n))}
        ) nearest
        WHERE company_id = %(company)s AND model = %(model)s
        ORDER BY distance, id LIMIT {int(n)}
    """
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in settings_sql:
            cursor.execute(statement)
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return sorted(rows, key=lambda r: (r[1], r[0]))


def _exact_plan(company_id, column: str, model_name: str, memoire_ids) -> bool:
    """Whether the company's chunks are searched exactly (small company, chosen
    memoirs, or no index) rather than through the vector index."""
    own = company_chunk_count(company_id, model_name)
    return bool(
        memoire_ids
        or own <= settings.RAG_EXACT_SEARCH_MAX_CHUNKS
        or vector_index(column).method is None
    )


def _vector_params(company_id, vector, model_name: str, memoire_ids) -> tuple[str, dict]:
    column, stored = _column_for(vector)
    return column, {
        "company": company_id,
        "model": model_name,
        "memoires": list(memoire_ids) if memoire_ids else None,
        "vector": _vector_literal(stored),
    }


def vector_candidates(
    company_id, vector, model_name: str, n: int, memoire_ids=None
) -> tuple[list[tuple], str]:
    """``[(chunk_id, distance)]`` nearest first, and the plan used."""
    column, params = _vector_params(company_id, vector, model_name, memoire_ids)
    if _exact_plan(company_id, column, model_name, memoire_ids):
        return _exact(params, n, column), "exact"
    own = company_chunk_count(company_id, model_name)
    share = own / max(_table_rows(), own, 1)
    rows = _indexed(params, n, share, column)
    if len(rows) < min(n, own):
        return _exact(params, n, column), "exact (fallback)"
    return rows, "index"


@dataclass
class TextHit:
    chunk_id: object
    score: float
    rank: float
    coverage: float  # share of the question's weight the chunk's words make


def _text_params(company_id, query: str, n: int) -> tuple[dict, float]:
    """The full-text parameters of ``query``, and the total weight of its terms."""
    weighted = fulltext.weigh(fulltext.parse(query), company_id)
    return {
        "has_terms": bool(weighted.terms),
        "terms": weighted.terms,
        "weights": weighted.weights,
        "phrases": weighted.phrases,
        "phrase_weights": weighted.phrase_weights,
        "candidates": fulltext.or_query(weighted.candidates),
        "all": fulltext.or_query(weighted.terms),
        "n": n,
    }, sum(weighted.weights) or 1.0


def _text_hits(rows, total: float) -> list[TextHit]:
    return [
        TextHit(chunk_id, float(score), float(rank), float(covered or 0) / total)
        for chunk_id, score, rank, covered in rows
    ]


def text_candidates(company_id, query: str, n: int, memoire_ids=None) -> list[TextHit]:
    """The company's chunks holding words of the question ``query``, best first."""
    params, total = _text_params(company_id, query, n)
    if not params["has_terms"]:
        return []
    params |= {"company": company_id, "memoires": list(memoire_ids) if memoire_ids else None}
    with connection.cursor() as cursor:
        cursor.execute(fulltext.candidates_sql(_scope()), params)
        return _text_hits(cursor.fetchall(), total)


def fuse(
    vector_hits: list[tuple], text_hits: list[TextHit], fusion: Fusion = FUSION
) -> tuple[dict, dict]:
    """Weighted RRF scores ``{chunk_id: score}`` and ``{chunk_id: [sources]}``."""
    scores: dict = {}
    found: dict = {}
    for rank, (chunk_id, _distance) in enumerate(vector_hits, start=1):
        scores[chunk_id] = scores.get(chunk_id, 0.0) + fusion.vector_weight / (fusion.k + rank)
        found.setdefault(chunk_id, []).append("vector")
    for rank, hit in enumerate(text_hits, start=1):
        scores[hit.chunk_id] = scores.get(hit.chunk_id, 0.0) + fusion.text_weight / (
            fusion.k + rank
        )
        found.setdefault(hit.chunk_id, []).append("text")
    return scores, found


#: Threads embedding questions while the request's thread queries the database.
_EMBEDDER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="rag-embed-query")


def _timed(function, *args):
    started = time.perf_counter()
    return function(*args), (time.perf_counter() - started) * 1000


_SHINGLE_WORDS = re.compile(r"[^\W_]+")


def _shingles(text: str) -> frozenset:
    words = _SHINGLE_WORDS.findall(text.lower())
    if len(words) < 3:
        return frozenset([" ".join(words)])
    return frozenset(" ".join(words[i : i + 3]) for i in range(len(words) - 2))


def collapse_duplicates(passages: list[Passage]) -> list[Passage]:
    """Passages in order, each near-duplicate folded into the first of its group."""
    kept: list[tuple[Passage, frozenset]] = []
    for passage in passages:
        shingles = _shingles(passage.content)
        for first, first_shingles in kept:
            union = len(shingles | first_shingles)
            if union and len(shingles & first_shingles) / union >= DUPLICATE_JACCARD:
                first.similar.append(passage)
                break
        else:
            kept.append((passage, shingles))
    return [passage for passage, _ in kept]


def _rows(company_id, chunk_ids: list, vector: list[float], model_name: str) -> dict:
    """The chunks ``chunk_ids`` of the company with their memoir's name and, for the
    active model's, their distance to the query."""
    column, stored = _column_for(vector)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT c.id, c.memoire_id, m.filename, c.content, c.metadata,
                   CASE WHEN c.metadata->>'embedding_model' = %(model)s
                        THEN c.{column} <=> %(vector)s::vector END
            FROM document_chunks c JOIN memoires m ON m.id = c.memoire_id
            WHERE m.company_id = %(company)s AND c.id = ANY(%(ids)s::uuid[])
            """,
            {
                "company": company_id,
                "ids": [str(i) for i in chunk_ids],
                "model": model_name,
                "vector": _vector_literal(stored),
            },
        )
        return {row[0]: row for row in cursor.fetchall()}


def search_passages(
    company,
    query: str,
    *,
    k: int = 10,
    memoire_ids=None,
    backend=None,
    mode: str = "hybrid",
    floor: float | None = None,
    fusion: Fusion = FUSION,
) -> tuple[list[Passage], dict]:
    """The ``k`` best passages of the company's memoirs for ``query``, and facts
    about how they were found (plan, candidates, whether anything was relevant).

    ``mode`` is ``hybrid`` (the application's), ``vector`` or ``text`` (what the
    evaluation compares); ``floor`` overrides the similarity floor (0 disables it).
    """
    query = (query or "").strip()
    if not query:
        return [], {}
    company_id = company_pk(company)
    backend = backend or get_backend()
    floor = similarity_floor(backend) if floor is None else floor
    n = max(4 * k, 40)
    timings = {}
    started = time.perf_counter()
    # The question is embedded in another thread (the engine or the HTTP call runs
    # without the GIL) while this one runs the full-text query, which needs no vector:
    # the two overlap instead of adding up.
    embedding = _EMBEDDER.submit(_timed, backend.embed_query, query)
    vector_hits, plan, text_hits = [], None, []
    try:
        if mode in ("hybrid", "text"):
            text_started = time.perf_counter()
            text_hits = text_candidates(company_id, query, n, memoire_ids)
            timings["text_ms"] = (time.perf_counter() - text_started) * 1000
    finally:
        vector, timings["embed_ms"] = embedding.result()
    timings["embedded_after_ms"] = (time.perf_counter() - started) * 1000
    if mode in ("hybrid", "vector"):
        vector_started = time.perf_counter()
        vector_hits, plan = vector_candidates(
            company_id, vector, backend.model_name, n, memoire_ids
        )
        timings["vector_ms"] = (time.perf_counter() - vector_started) * 1000
    scores, found = fuse(vector_hits, text_hits, fusion)
    ranked = sorted(scores, key=lambda c: (-scores[c], str(c)))[:n]
    texts = {hit.chunk_id: hit for hit in text_hits}
    rows = _rows(company_id, ranked, vector, backend.model_name)

    passages, dropped = [], 0
    for chunk_id in ranked:
        row = rows.get(chunk_id)
        if row is None:
            continue
        _id, memoire_id, filename, content, meta, distance = row
        meta = (json.loads(meta) if isinstance(meta, str) else meta) or {}
        similarity = None if distance is None else 1 - float(distance)
        text = texts.get(chunk_id)
        relevant = (similarity is not None and similarity >= floor) or (
            text is not None and text.coverage >= TEXT_COVERAGE_FLOOR
        )
        if not relevant and mode == "hybrid":
            dropped += 1
            continue
        passages.append(
            Passage(
                chunk_id=chunk_id,
                memoire_id=memoire_id,
                memoire=filename,
                content=content,
                page=meta.get("page"),
                heading=meta.get("heading"),
                similarity=similarity,
                text_rank=None if text is None else text.score,
                score=scores[chunk_id],
                found_by=found[chunk_id],
            )
        )
    passages = collapse_duplicates(passages)[:k]
    facts = {
        "plan": plan,
        "vector": len(vector_hits),
        "text": len(text_hits),
        "below_floor": dropped,
        "floor": floor,
        "nothing_relevant": not passages and bool(vector_hits or text_hits),
        **{key: round(value, 2) for key, value in timings.items()},
    }
    return passages, facts
