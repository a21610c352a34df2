"""Start (or reuse) the embedded PostgreSQL + pgvector server of the `pgserver` package.

Used when ``DATABASE_URL`` is unset, so a developer gets a working database without
installing PostgreSQL. The server keeps running after the process that started it
exits (``cleanup_mode=None``): the next ``manage.py`` call, runserver's reloader or a
parallel test process reuses it instead of paying a start-up each time. pgserver
serialises initdb/start behind an inter-process file lock, so concurrent starters are
safe; as root it runs the server as a dedicated system user.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import warnings
from pathlib import Path

logger = logging.getLogger(__name__)
_lock = threading.Lock()


@functools.cache
def _server(pgdata: str):
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, root shells).
        warnings.simplefilter("ignore")
        import pgserver

        return pgserver.get_server(Path(pgdata), cleanup_mode=None)


#: The two roles of the embedded server (docs/security.md): the owner of the tables,
#: which migrations use, and the application's, which owns nothing.
OWNER_ROLE = "enpyco_owner"
APP_ROLE = "enpyco_app"


def ensure_server(pgdata: str, dbname: str) -> str:
    """Return the unix-socket directory of a running embedded server holding ``dbname``,
    owned by the owner role, with pgvector installed (only a superuser may install it)."""
    with _lock:
        server = _server(pgdata)
        info = server.get_postmaster_info()
        socket_dir = str(info.socket_dir)
        _ensure_roles(socket_dir)
        _ensure_database(socket_dir, dbname)
        return socket_dir


@functools.cache
def _ensure_roles(socket_dir: str) -> None:
    import psycopg

    with psycopg.connect(
        host=socket_dir, user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        for role, options in (
            (OWNER_ROLE, "LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS"),
            (APP_ROLE, "LOGIN NOCREATEDB NOSUPERUSER NOBYPASSRLS"),
        ):
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
                # Another process may win the race.
                with contextlib.suppress(psycopg.errors.DuplicateObject):
                    conn.execute(f"CREATE ROLE {role} {options}")
    # Only a superuser may install pgvector or mark functions leakproof: every database
    # made from template1 (the test and scratch databases the owner creates) gets both
    # from there.
    with psycopg.connect(
        host=socket_dir, user="postgres", dbname="template1", autocommit=True
    ) as conn:
        _superuser_setup(conn)


def _superuser_setup(conn) -> None:
    from config.db.rls import LEAKPROOF_OPERATOR_FUNCTIONS

    conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    for function in LEAKPROOF_OPERATOR_FUNCTIONS:
        conn.execute(f"ALTER FUNCTION {function} LEAKPROOF")


@functools.cache
def _ensure_database(socket_dir: str, dbname: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(
        host=socket_dir, user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        exists = conn.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [dbname]
        ).fetchone()
        if not exists:
            try:
                conn.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(
                        sql.Identifier(dbname), sql.Identifier(OWNER_ROLE)
                    )
                )
                logger.info("created database %s in the embedded server", dbname)
            except psycopg.errors.DuplicateDatabase:  # another process won the race
                pass
        else:
            _hand_over(socket_dir, dbname)
    _prepare(socket_dir, dbname)


def _prepare(socket_dir: str, dbname: str) -> None:
    """pgvector, the leakproof operators, and the public schema the owner's (a fresh
    PostgreSQL 15+ gives it to the database owner already; older databases of this
    checkout had it otherwise)."""
    import psycopg

    with psycopg.connect(host=socket_dir, user="postgres", dbname=dbname, autocommit=True) as conn:
        _superuser_setup(conn)
        conn.execute(f"ALTER SCHEMA public OWNER TO {OWNER_ROLE}")
        conn.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")


def _hand_over(socket_dir: str, dbname: str) -> None:
    """A database made by an earlier version of this checkout (owned by ``postgres``):
    it and its objects become the owner role's (nothing to do on later starts)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(host=socket_dir, user="postgres", dbname=dbname, autocommit=True) as conn:
        conn.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                sql.Identifier(dbname), sql.Identifier(OWNER_ROLE)
            )
        )
        conn.execute(
            f"""
            DO $$
            DECLARE item record;
            BEGIN
                FOR item IN
                    SELECT format('ALTER %s %s OWNER TO {OWNER_ROLE}',
                                  CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                                       WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
                                  c.oid::regclass) AS statement
                      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'S', 'v', 'm')
                       AND pg_get_userbyid(c.relowner) = 'postgres'
                       -- a sequence of a column follows its table
                       AND NOT EXISTS (SELECT 1 FROM pg_depend d
                                        WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))
                    UNION ALL
                    SELECT format('ALTER FUNCTION %s OWNER TO {OWNER_ROLE}', p.oid::regprocedure)
                      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                     WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) = 'postgres'
                       AND NOT EXISTS (SELECT 1 FROM pg_depend d
                                        WHERE d.objid = p.oid AND d.deptype = 'e')
                    UNION ALL
                    SELECT format('ALTER TYPE %s OWNER TO {OWNER_ROLE}', t.oid::regtype)
                      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                     WHERE n.nspname = 'public' AND t.typtype = 'e'
                       AND pg_get_userbyid(t.typowner) = 'postgres'
                LOOP
                    EXECUTE item.statement;
                END LOOP;
            END $$;
            """
        )
        logger.info("handed the objects of %s over to %s", dbname, OWNER_ROLE)
