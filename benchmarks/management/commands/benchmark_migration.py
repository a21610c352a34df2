"""Time the forward migration of a legacy database of N projects.

Creates a scratch database on the configured server, builds the legacy schema with
projects.0001 / rag.0001 (the legacy DDL verbatim), fills it in proportion (sections,
memoires, chunks), times ``migrate`` to the multi-tenant schema, prints rows per
second and drops the database (unless ``--keep``).
"""

from __future__ import annotations

import contextlib
import io
import re
import time
import uuid

import psycopg
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from benchmarks.legacy import fill_legacy_tables, settle


class Command(BaseCommand):
    help = "Time the migration of a generated legacy database (rows per second)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--projects", type=int, default=100_000, help="Legacy projects.")
        parser.add_argument("--keep", action="store_true", help="Keep the scratch database.")

    def handle(self, *args, projects: int, keep: bool, **options) -> None:
        if projects < 1:
            raise CommandError("--projects must be at least 1.")
        base = connections["owner"]  # creates the database and owns its tables
        params = base.get_connection_params()
        server = {k: params[k] for k in ("host", "port", "user", "password") if params.get(k)}
        name = f"bench_migration_{uuid.uuid4().hex[:8]}"
        alias = "benchmark_migration"

        with psycopg.connect(**server, dbname="postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        connections.settings[alias] = {**base.settings_dict, "NAME": name, "TEST": {}}
        try:
            self._run(alias, projects)
        finally:
            connections[alias].close()
            del connections[alias]  # the cached wrapper, or a second call reuses it
            del connections.settings[alias]
            if keep:
                self.stdout.write(f"Kept database {name}.")
            else:
                with psycopg.connect(**server, dbname="postgres", autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _run(self, alias: str, projects: int) -> None:
        quiet = io.StringIO()
        call_command("migrate", "projects", "0001", database=alias, verbosity=0, stdout=quiet)
        call_command("migrate", "rag", "0001", database=alias, verbosity=0, stdout=quiet)

        started = time.perf_counter()
        with connections[alias].cursor() as cursor:
            counts = fill_legacy_tables(cursor, projects)
            built = time.perf_counter() - started
            started = time.perf_counter()
            settled = settle(cursor)
        settling = time.perf_counter() - started
        total = sum(counts.values())
        self.stdout.write(
            "Legacy database: "
            + ", ".join(f"{n:,} {table}" for table, n in counts.items())
            + f" (built in {built:.1f} s; {settled} in {settling:.1f} s)"
        )

        log = io.StringIO()
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # post-migrate signal chatter
            call_command("migrate", database=alias, verbosity=2, stdout=log)
        elapsed = time.perf_counter() - started

        for line in log.getvalue().splitlines():
            match = re.match(r"\s*Applying (\S+)\.\.\. OK \(([\d.]+)s\)", line)
            if match and float(match.group(2)) >= 0.05:
                self.stdout.write(f"  {match.group(1):<40} {float(match.group(2)):7.2f} s")
        self.stdout.write(
            f"Forward migration: {elapsed:.2f} s — "
            f"{projects / elapsed:,.0f} projects/s, {total / elapsed:,.0f} legacy rows/s"
        )
