"""Scratch databases on the test server, for tests that run ``manage.py migrate`` (or
another command) against a database of their own in a subprocess, as an operator would.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from django.db import connections

from config.db.url import database_url

ROOT = Path(__file__).resolve().parent.parent
LEGACY_SCHEMA = ROOT / "projects" / "migrations" / "legacy_schema.sql"


@dataclass
class ScratchDatabase:
    name: str
    conninfo: dict

    def connect(self, **kwargs) -> psycopg.Connection:
        """A connection as the owner, reading and writing every company's rows (the
        platform mode of row-level security, tenants/rls.py), as an operator's."""
        conn = psycopg.connect(**self.conninfo, dbname=self.name, autocommit=True, **kwargs)
        conn.execute("SELECT set_config('enpyco.platform', 'on', false)")
        return conn

    def execute(self, sql: str, params=None) -> list[tuple]:
        with self.connect() as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def execute_as_superuser(self, sql: str) -> None:
        """What only a superuser may do (marking functions LEAKPROOF): the embedded
        server's ``postgres`` role, on the same socket."""
        info = {**self.conninfo, "user": "postgres"}
        info.pop("password", None)
        with psycopg.connect(**info, dbname=self.name, autocommit=True) as conn:
            conn.execute(sql)

    def mark_leakproof(self) -> None:
        """What an operator does once as a superuser after ``migrate`` off the embedded
        server's own databases (``check_migration`` checks it)."""
        from config.db.rls import LEAKPROOF_PROJECT_FUNCTIONS

        self.execute_as_superuser(
            " ".join(f"ALTER FUNCTION {f} LEAKPROOF;" for f in LEAKPROOF_PROJECT_FUNCTIONS)
        )

    def url(self) -> str:
        return database_url(self.conninfo, self.name)

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run ``manage.py`` against this database in a subprocess."""
        env = {**os.environ, "DATABASE_URL": self.url(), "PYTHONWARNINGS": "ignore"}
        result = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"manage.py {' '.join(args)} exited {result.returncode}\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result


def _server_conninfo() -> dict:
    """The owner role's: scratch databases are created, and migrated, by the owner of
    the tables (the application's role may not create databases)."""
    params = connections["owner"].get_connection_params()
    return {k: params[k] for k in ("host", "port", "user", "password") if params.get(k)}


@contextlib.contextmanager
def scratch_database(prefix: str = "scratch") -> Iterator[ScratchDatabase]:
    """An empty database (with pgvector available) dropped afterwards."""
    info = _server_conninfo()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(**info, dbname="postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield ScratchDatabase(name, info)
    finally:
        _drop(info, name)


def _drop(info: dict, name: str) -> None:
    """Drop the scratch database. A backend of another role may still be leaving it
    (the owner may not terminate it: "permission denied to terminate process"); it is
    waited for, then, on the embedded server, dropped by its superuser."""
    sql = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    for _attempt in range(10):
        try:
            with psycopg.connect(**info, dbname="postgres", autocommit=True) as conn:
                conn.execute(sql)
            return
        except (psycopg.errors.InsufficientPrivilege, psycopg.errors.ObjectInUse):
            time.sleep(0.5)
    superuser = {**info, "user": "postgres"}
    superuser.pop("password", None)
    with psycopg.connect(**superuser, dbname="postgres", autocommit=True) as conn:
        conn.execute(sql)
