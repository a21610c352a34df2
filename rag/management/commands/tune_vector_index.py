"""Rebuild the ANN indexes of document_chunks, with an operator's options.

The indexes are kept suited to the data without this command (``rag.vector_index``:
HNSW built by the migration or by the vector index job). It remains for operators who
want other parameters (``--m``, ``--ef-construction``), an ivfflat index, or a rebuild
now rather than at the job's next check. Each index is built CONCURRENTLY under a
temporary name, then swapped in under its own name, so searches go on meanwhile.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from rag.vector_index import INDEXES, RebuildBusy, rebuild, suited_ivfflat_lists


class Command(BaseCommand):
    help = "Rebuild the vector indexes of document_chunks as HNSW, or as ivfflat sized to the data."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--method", choices=["hnsw", "ivfflat"], default="hnsw")
        parser.add_argument("--m", type=int, default=16, help="HNSW: links per node.")
        parser.add_argument(
            "--ef-construction", type=int, default=64, help="HNSW: build-time list size."
        )
        parser.add_argument(
            "--lists", type=int, help="ivfflat: lists (default: rows/1000, sqrt(rows) past 1M)."
        )
        parser.add_argument(
            "--column",
            choices=[*INDEXES, "all"],
            default="all",
            help="The vector column whose index is rebuilt (default: both).",
        )
        parser.add_argument("--maintenance-work-mem", default="1GB")

    def handle(
        self, *args, method, m, ef_construction, lists, column, maintenance_work_mem, **options
    ):
        if connection.in_atomic_block:
            raise CommandError("À lancer hors transaction (CREATE INDEX CONCURRENTLY).")
        if method == "hnsw" and (m < 2 or ef_construction < 2 * m):
            raise CommandError("HNSW demande m >= 2 et ef_construction >= 2 * m.")
        if lists is not None and lists < 1:
            raise CommandError("--lists doit valoir au moins 1.")
        for name in INDEXES if column == "all" else [column]:
            if method == "hnsw":
                using = f"hnsw ({name} vector_cosine_ops) WITH (m = {m}, ef_construction = {ef_construction})"
            else:
                with connection.cursor() as cursor:
                    cursor.execute(f"SELECT count({name}) FROM document_chunks")
                    rows = cursor.fetchone()[0]
                using = f"ivfflat ({name} vector_cosine_ops) WITH (lists = {lists or suited_ivfflat_lists(rows)})"
            try:
                done = rebuild(name, using, maintenance_work_mem=maintenance_work_mem)
            except RebuildBusy:
                raise CommandError(
                    "Un autre processus reconstruit un index vectoriel : réessayez plus tard."
                ) from None
            self.stdout.write(
                f"{done.name}: {done.using} over {done.rows:,} vectors, built in {done.seconds:.1f} s."
            )
