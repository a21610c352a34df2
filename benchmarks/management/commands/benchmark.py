"""Benchmark the schema at scale: queries, admin changelists, semantic search, matching,
generation, migration.

Creates a scratch database on the configured server, migrates it, fills it with a
synthetic multi-tenant dataset (1,000 companies, 1,000,000 projects and content blocks,
5,000,000 audit rows, one company with 100,000 of each, 100,000 chunks of 384
dimensions in 10 companies at ``--scale 1``; for parts 5 and 6 a library company of
10,000 active blocks and 2,000 memoir chunks), measures, prints a Markdown report and
drops the database (unless ``--keep``; ``--reuse NAME`` measures a kept one again and
keeps it). Each part builds only what it reads: ``--only matching,generation`` builds
the library company alone.

The measurements that need the ``default`` connection (the admin test client,
``rag.search``) run in a ``manage.py benchmark --measure`` subprocess whose
``DATABASE_URL`` names the scratch database. Part 4 runs ``benchmark_migration``.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
import uuid

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections

from benchmarks import report
from benchmarks.dataset import Builder
from benchmarks.library import build_library
from benchmarks.sizes import Sizes
from config.db.url import database_url

PARTS = ("queries", "admin", "vector", "layout", "matching", "generation", "migration")
#: The parts that read the library company (benchmarks.library).
LIBRARY_PARTS = {"matching", "generation"}
PREFIX = "benchmark_"
QUICK_SCALE = 0.002


class Command(BaseCommand):
    help = (
        "Build a synthetic multi-tenant dataset in a scratch database and print a Markdown "
        "table of query, admin changelist, semantic search, matching, generation and "
        "migration timings."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--quick", action="store_true", help="Tiny scale, 3 runs: checks it works."
        )
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="Fraction of the full sizes (1 = 1,000 companies, 1M projects, …).",
        )
        parser.add_argument(
            "--only",
            default=",".join(PARTS),
            help=f"Comma-separated parts among {', '.join(PARTS)}.",
        )
        parser.add_argument("--repeat", type=int, help="Timed runs per measure (20; 3 quick).")
        parser.add_argument("--keep", action="store_true", help="Keep the scratch database.")
        parser.add_argument(
            "--reuse", metavar="DBNAME", help="Measure a kept database again (it is kept)."
        )
        parser.add_argument("--output", metavar="FILE", help="Also write the report there.")
        parser.add_argument(
            "--vector-index",
            metavar="SPEC",
            help="Rebuild document_chunks_embedding_384_idx first: schema (as migrated), "
            "ivfflat:LISTS or hnsw:M:EF_CONSTRUCTION (to measure an alternative).",
        )
        parser.add_argument(
            "--migration-runs", type=int, help="Runs of part 4 (1 at 100k+ projects, else 3)."
        )
        parser.add_argument(
            "--proposals",
            action="store_true",
            help="Measure with the indexes the report proposes "
            "(benchmarks.proposals: created for the run, dropped after it).",
        )
        # Internal: the measuring subprocess.
        parser.add_argument("--measure", help=argparse.SUPPRESS)
        parser.add_argument("--json-out", help=argparse.SUPPRESS)

    def log(self, message: str) -> None:
        self.stderr.write(message)
        self.stderr.flush()

    # --- the parent ------------------------------------------------------------------
    def handle(self, *args, **options) -> None:
        parts = [p.strip() for p in options["only"].split(",") if p.strip()]
        unknown = set(parts) - set(PARTS)
        if unknown or not parts:
            raise CommandError(f"--only takes parts among {', '.join(PARTS)}.")
        repeat = options["repeat"] or (3 if options["quick"] else 20)
        if repeat < 1:
            raise CommandError("--repeat must be at least 1.")
        if options["measure"]:
            return self._measure(
                options["measure"].split(","), repeat, options["json_out"], options["proposals"]
            )
        if options["scale"] <= 0:
            raise CommandError("--scale must be positive.")
        sizes = Sizes.for_scale(QUICK_SCALE if options["quick"] else options["scale"])

        # The owner's: it creates the scratch database and owns what migrate creates.
        params = connections["owner"].get_connection_params()
        conninfo = {k: params[k] for k in ("host", "port", "user", "password") if params.get(k)}
        results: dict = {
            "command": "python manage.py benchmark "
            + " ".join(shlex.quote(a) for a in sys.argv[2:]),
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "repeat": repeat,
            "parts": parts,
            "machine": report.machine(conninfo),
        }
        started = time.perf_counter()
        measured = [p for p in parts if p != "migration"]
        if measured:
            sizes = self._with_database(conninfo, sizes, measured, repeat, options, results)
        if "migration" in parts:
            from benchmarks.migration import measure_migration

            runs = options["migration_runs"] or (1 if sizes.legacy_projects >= 100_000 else 3)
            self.log(f"Part 4: migration of {sizes.legacy_projects:,} legacy projects ×{runs}…")
            results["migration"] = measure_migration(sizes.legacy_projects, runs, self.log)
        results["sizes"] = sizes.as_dict()
        results["elapsed_s"] = time.perf_counter() - started
        results["machine"]["load_end"] = os.getloadavg()[0]
        text = report.render(results)
        text += f"\nWhole run: {results['elapsed_s']:.0f} s.\n"
        self.stdout.write(text)
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as handle:
                handle.write(text)
            self.log(f"Report written to {options['output']}.")

    def _with_database(self, conninfo, sizes, parts, repeat, options, results) -> Sizes:
        name = options["reuse"] or f"{PREFIX}{uuid.uuid4().hex[:8]}"
        created = not options["reuse"]
        if created:
            with psycopg.connect(**conninfo, dbname="postgres", autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            self.log(f"Scratch database {name}: migrating…")
        builder = Builder(conninfo, name, sizes, self.log)
        if not created and "sizes" not in builder.meta():
            # Checked before anything runs on it: no migration, and it is left as it is.
            raise CommandError(f"{name} is not a database built by this command.")
        try:
            # A reused database gets the migrations written since it was built.
            self._migrate(name)
            if created:
                builder.prepare()
                builder.set_meta("sizes", sizes.as_dict())
            meta = builder.meta()
            sizes = builder.sizes = Sizes(**meta["sizes"])
            build: dict = {"reused": None if created else name}
            if ({"queries", "admin"} & set(parts)) and "relational" not in meta:
                build["relational"] = builder.build_relational()
                builder.set_meta("relational", build["relational"])
            elif "relational" in meta:
                build["relational"] = meta["relational"]
            if {"vector", "admin"} & set(parts):  # the admin part has passage pages
                if "vectors" not in meta:
                    build["vectors"] = builder.build_vectors()
                    builder.set_meta("vectors", build["vectors"])
                else:
                    build["vectors"] = meta["vectors"]
                if options["vector_index"] and "vector" in parts:
                    try:
                        build["vector_index"] = builder.set_vector_index(options["vector_index"])
                    except ValueError as exc:
                        raise CommandError(str(exc)) from None
            if LIBRARY_PARTS & set(parts):
                if "library" not in meta:
                    build["library"] = build_library(builder)
                    builder.set_meta("library", build["library"])
                else:
                    build["library"] = meta["library"]
            results["build"] = build
            if options["proposals"]:
                self._proposed_indexes(builder, create=True)
            try:
                self._subprocess(conninfo, name, parts, repeat, results, options["proposals"])
            finally:
                if options["proposals"]:
                    self._proposed_indexes(builder, create=False)
        finally:
            if options["keep"] or not created:
                self.log(f"Kept database {name}: measure it again with --reuse {name}.")
            elif name.startswith(PREFIX):
                with psycopg.connect(**conninfo, dbname="postgres", autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                self.log(f"Dropped database {name}.")
        return sizes

    def _migrate(self, name: str) -> None:
        alias = "benchmark"
        connections.settings[alias] = {
            # As the owner of the tables, whom the scratch database belongs to.
            **connections["owner"].settings_dict,
            "NAME": name,
            "TEST": {},
        }
        try:
            started = time.perf_counter()
            call_command("migrate", database=alias, verbosity=0, stdout=io.StringIO())
            self.log(f"  migrate: {time.perf_counter() - started:.1f} s")
        finally:
            connections[alias].close()
            del connections.settings[alias]
            del connections[alias]  # else a second call would reuse the old wrapper

    def _proposed_indexes(self, builder: Builder, *, create: bool) -> None:
        from benchmarks.proposals import PROPOSED_INDEXES

        with builder.connect() as conn:
            for index, definition, _where in PROPOSED_INDEXES:
                conn.execute(f"DROP INDEX IF EXISTS {index}")
                if create:
                    started = time.perf_counter()
                    conn.execute(definition)
                    self.log(f"  proposed {index}: {time.perf_counter() - started:.1f} s")
            if create:
                conn.execute("ANALYZE content_blocks; ANALYZE audit_log")

    def _subprocess(self, conninfo, name, parts, repeat, results, proposals=False) -> None:
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
            path = handle.name
        try:
            env = {**os.environ, "DATABASE_URL": database_url(conninfo, name)}
            command = [
                sys.executable,
                str(settings.BASE_DIR / "manage.py"),
                "benchmark",
                "--measure",
                ",".join(parts),
                "--repeat",
                str(repeat),
                "--json-out",
                path,
                *(["--proposals"] if proposals else []),
            ]
            done = subprocess.run(command, env=env, cwd=settings.BASE_DIR, check=False)
            if done.returncode != 0:
                raise CommandError(f"The measuring subprocess failed (exit {done.returncode}).")
            with open(path, encoding="utf-8") as measured:
                results.update(json.load(measured))
        finally:
            os.unlink(path)

    # --- the measuring subprocess ----------------------------------------------------
    def _measure(
        self, parts: list[str], repeat: int, json_out: str | None, proposals: bool = False
    ) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('benchmark.meta')")
            if cursor.fetchone()[0] is None:
                raise CommandError(
                    "--measure runs only on a database built by `manage.py benchmark`."
                )
            cursor.execute("SELECT value FROM benchmark.meta WHERE key = 'sizes'")
            value = cursor.fetchone()[0]
            sizes = Sizes(**(json.loads(value) if isinstance(value, str) else value))
        measured: dict = {}
        if proposals:
            from benchmarks.proposals import descriptions

            measured["proposals"] = descriptions()
        if "queries" in parts:
            from benchmarks.queries import measure_queries

            self.log("Part 1: queries…")
            measured["queries"] = measure_queries(sizes, repeat, self.log)
        if "admin" in parts:
            from benchmarks.changelists import measure_changelists
            from benchmarks.uploads import measure_uploads

            self.log("Part 2: admin changelists…")
            measured["admin"] = measure_changelists(sizes, repeat, self.log, chunks=True)
            self.log("Part 2b: memoir upload and indexing…")
            measured["uploads"] = measure_uploads(
                min(repeat, 5), self.log, size_bytes=20_000 if sizes.scale < 0.01 else 420_000
            )
        if "vector" in parts:
            from benchmarks.vectors import measure_vectors

            self.log("Part 3: semantic search…")
            measured["vector"] = measure_vectors(sizes, repeat, self.log)
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT indexdef FROM pg_indexes "
                    "WHERE indexname = 'document_chunks_embedding_384_idx'"
                )
                row = cursor.fetchone()
            measured["vector"]["index_definition"] = row[0] if row else None
        if "layout" in parts:
            from benchmarks.vector_layout import measure_layout

            self.log("Part 3b: 384-dimension vectors, padded or in their own column…")
            measured["layout"] = measure_layout(
                max(2_000, round(50_000 * sizes.scale)), repeat, self.log
            )
        if LIBRARY_PARTS & set(parts):
            from benchmarks.flow import measure_flow

            self.log("Parts 5 and 6: matching, coverage, generation and export…")
            measured.update(measure_flow(sizes, parts, repeat, self.log))
        payload = json.dumps(measured, default=str)
        if json_out:
            with open(json_out, "w", encoding="utf-8") as handle:
                handle.write(payload)
        else:
            self.stdout.write(payload)
