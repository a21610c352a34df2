"""The ANN indexes of document_chunks: which one suits the data, and rebuilding it.

Each vector column has one index (``INDEXES``). Where the server has HNSW (pgvector
0.5+), HNSW suits any size: its graph grows with the rows, so once built it stays
right. The legacy ivfflat index does not: its lists are trained once, on the rows of
the day (the contract's was built on an empty table with 10 lists), and a big
company's search then reads most vectors. So:

* rag.0005 builds HNSW indexes when the table is small enough for a migration;
* after each memoir is indexed, and every ten minutes (``rag.tasks``), ``unsuited``
  lists the indexes that no longer suit their data — missing, ivfflat where HNSW
  exists, ivfflat with lists far from rows / 1000 where it does not — and a background
  job (``JobKind.VECTOR_INDEX``) rebuilds them with ``rebuild``: ``CREATE INDEX
  CONCURRENTLY`` under a temporary name, then a swap, so searches go on meanwhile;
* ``manage.py tune_vector_index`` runs the same rebuild by hand, with the operator's
  options.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, connections, transaction

from config import cache_keys

#: column → index name (rag.models.DocumentChunk.Meta.indexes).
INDEXES = {
    "embedding": "document_chunks_embedding_idx",
    "embedding_384": "document_chunks_embedding_384_idx",
}
HNSW_SINCE = (0, 5)
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 64
#: Without HNSW, fewer embedded rows than this are searched exactly, index or not.
IVFFLAT_MIN_ROWS = 10_000
#: Session-level advisory lock held while an index is rebuilt: one rebuild at a time.
REBUILD_LOCK = 0x7261_6749  # "ragI"


@dataclass(frozen=True)
class IndexState:
    column: str
    name: str
    method: str | None  # "hnsw", "ivfflat" or None (no index)
    lists: int = 0
    rows: int = 0  # embedded rows of the column


def suited_ivfflat_lists(rows: int) -> int:
    """ivfflat lists for ``rows`` vectors, as pgvector advises: rows / 1000 up to a
    million rows, their square root beyond."""
    return max(10, rows // 1000 if rows <= 1_000_000 else int(math.sqrt(rows)))


def pgvector_version(using=None) -> tuple[int, ...]:
    with (using or connection).cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        row = cursor.fetchone()
    return tuple(int(x) for x in row[0].split(".") if x.isdigit()) if row else (0,)


def state(column: str, using=None) -> IndexState:
    """The index of ``column`` as the catalog has it, and the column's embedded rows."""
    name = INDEXES[column]
    with (using or connection).cursor() as cursor:
        cursor.execute(
            "SELECT am.amname, c.reloptions FROM pg_class c JOIN pg_am am ON am.oid = c.relam "
            "WHERE c.relname = %s AND c.relkind = 'i'",
            [name],
        )
        row = cursor.fetchone()
        cursor.execute(f"SELECT count({column}) FROM document_chunks")
        rows = cursor.fetchone()[0]
    if row is None:
        return IndexState(column, name, None, rows=rows)
    options = dict(opt.split("=", 1) for opt in (row[1] or []))
    return IndexState(column, name, row[0], int(options.get("lists", 100)), rows)


def suited_using(column: str, rows: int, version: tuple[int, ...]) -> str | None:
    """The USING clause of the index that suits ``rows`` embedded rows, or None when
    no index is worth having (no HNSW and too few rows for ivfflat)."""
    if version >= HNSW_SINCE:
        return (
            f"hnsw ({column} vector_cosine_ops) "
            f"WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION})"
        )
    if rows < IVFFLAT_MIN_ROWS:
        return None
    return f"ivfflat ({column} vector_cosine_ops) WITH (lists = {suited_ivfflat_lists(rows)})"


def is_suited(index: IndexState, version: tuple[int, ...]) -> bool:
    if version >= HNSW_SINCE:
        return index.method == "hnsw"
    if index.rows < IVFFLAT_MIN_ROWS:
        return True  # searched exactly whatever the index
    if index.method != "ivfflat":
        return False
    suited = suited_ivfflat_lists(index.rows)
    return suited / 2 <= index.lists <= suited * 2


def unsuited(using=None) -> list[IndexState]:
    """The indexes to rebuild for the data they now hold."""
    version = pgvector_version(using)
    states = [state(column, using) for column in INDEXES]
    return [index for index in states if not is_suited(index, version)]


@dataclass
class Rebuilt:
    name: str
    using: str
    rows: int
    seconds: float


class RebuildBusy(Exception):
    """Another process is rebuilding a vector index."""


def _ddl_alias() -> str:
    """The connection that may create indexes: the tables' owner where the project
    configures one apart from the application's role (``DATABASES["owner"]``)."""
    return "owner" if "owner" in settings.DATABASES else "default"


def rebuild(column: str, using: str | None = None, *, maintenance_work_mem=None) -> Rebuilt:
    """Build the index of ``column`` (``using``: a USING clause; default: the suited one)
    concurrently under a temporary name, then swap it in under its own name.

    Runs outside any transaction (CREATE INDEX CONCURRENTLY); raises RebuildBusy when
    another rebuild holds the lock.
    """
    alias = _ddl_alias()
    ddl = connections[alias]
    if ddl.in_atomic_block:
        raise RuntimeError("A vector index is rebuilt outside a transaction.")
    name = INDEXES[column]
    with ddl.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [REBUILD_LOCK])
        if not cursor.fetchone()[0]:
            raise RebuildBusy(name)
        try:
            cursor.execute(f"SELECT count({column}) FROM document_chunks")
            rows = cursor.fetchone()[0]
            if using is None:
                using = suited_using(column, rows, pgvector_version(ddl))
                if using is None:
                    return Rebuilt(name, "", rows, 0.0)
            started = time.perf_counter()
            cursor.execute(
                "SELECT set_config('maintenance_work_mem', %s, false)",
                [maintenance_work_mem or settings.RAG_VECTOR_INDEX_BUILD_MEMORY],
            )
            cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}_new")
            cursor.execute(f"CREATE INDEX CONCURRENTLY {name}_new ON document_chunks USING {using}")
            built = time.perf_counter() - started
            with transaction.atomic(using=alias):
                cursor.execute(f"DROP INDEX IF EXISTS {name}")
                cursor.execute(f"ALTER INDEX {name}_new RENAME TO {name}")
            cursor.execute("ANALYZE document_chunks")
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [REBUILD_LOCK])
    cache_keys.VECTOR_INDEX.delete(column=column)  # other processes: within its lifetime
    return Rebuilt(name, using, rows, built)
