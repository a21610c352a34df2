"""Start (or reuse) the embedded PostgreSQL + pgvector server of the `pgserver` package.

Used when ``DATABASE_URL`` is unset, so a developer gets a working database without
installing PostgreSQL. The server keeps running after the process that started it
exits (``cleanup_mode=None``): the next ``manage.py`` call, runserver's reloader or a
parallel test process reuses it instead of paying a start-up each time. pgserver
serialises initdb/start behind an inter-process file lock, so concurrent starters are
safe; as root it runs the server as a dedicated system user.
"""

from __future__ import annotations

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


def ensure_server(pgdata: str, dbname: str) -> str:
    """Return the unix-socket directory of a running embedded server holding ``dbname``."""
    with _lock:
        server = _server(pgdata)
        info = server.get_postmaster_info()
        socket_dir = str(info.socket_dir)
        _ensure_database(socket_dir, dbname)
        return socket_dir


@functools.cache
def _ensure_database(socket_dir: str, dbname: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(
        host=socket_dir, user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone()
        if exists:
            return
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
            logger.info("created database %s in the embedded server", dbname)
        except psycopg.errors.DuplicateDatabase:  # another process won the race
            pass
