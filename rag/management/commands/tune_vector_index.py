"""Rebuild the ANN index of document_chunks for the data it now holds.

The legacy ivfflat index (lists=10) was built on an empty table: its lists mean
nothing and a big company's search reads most vectors. Once chunks are loaded, run
this to build an HNSW index (measured best here: docs/performance.md) or an ivfflat
index with lists sized to the rows. The new index is built CONCURRENTLY under a
temporary name, then swapped in under the legacy name, so searches go on meanwhile.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from config import cache_keys
from rag.search import suited_ivfflat_lists

INDEX = "document_chunks_embedding_idx"


class Command(BaseCommand):
    help = "Rebuild document_chunks_embedding_idx as HNSW, or as ivfflat sized to the data."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--method", choices=["hnsw", "ivfflat"], default="hnsw")
        parser.add_argument("--m", type=int, default=16, help="HNSW: links per node.")
        parser.add_argument(
            "--ef-construction", type=int, default=64, help="HNSW: build-time list size."
        )
        parser.add_argument(
            "--lists", type=int, help="ivfflat: lists (default: rows/1000, sqrt(rows) past 1M)."
        )
        parser.add_argument("--maintenance-work-mem", default="1GB")

    def handle(self, *args, method, m, ef_construction, lists, maintenance_work_mem, **options):
        if connection.in_atomic_block:
            raise CommandError("Run it outside a transaction (CREATE INDEX CONCURRENTLY).")
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM document_chunks WHERE embedding IS NOT NULL")
            rows = cursor.fetchone()[0]
            if method == "hnsw":
                if m < 2 or ef_construction < 2 * m:
                    raise CommandError("HNSW needs m >= 2 and ef_construction >= 2 * m.")
                using = f"hnsw (embedding vector_cosine_ops) WITH (m = {m}, ef_construction = {ef_construction})"
            else:
                if lists is None:
                    lists = suited_ivfflat_lists(rows)
                if lists < 1:
                    raise CommandError("--lists must be at least 1.")
                using = f"ivfflat (embedding vector_cosine_ops) WITH (lists = {lists})"
            started = time.perf_counter()
            cursor.execute("SET maintenance_work_mem = %s", [maintenance_work_mem])
            cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}_new")
            cursor.execute(
                f"CREATE INDEX CONCURRENTLY {INDEX}_new ON document_chunks USING {using}"
            )
            built = time.perf_counter() - started
            with connection.schema_editor(atomic=True) as editor:
                editor.execute(f"DROP INDEX IF EXISTS {INDEX}")
                editor.execute(f"ALTER INDEX {INDEX}_new RENAME TO {INDEX}")
            cursor.execute("ANALYZE document_chunks")
        cache_keys.VECTOR_INDEX.delete()  # other processes see it within its lifetime
        self.stdout.write(f"{INDEX}: {using} over {rows:,} vectors, built in {built:.1f} s.")
