"""A ``DATABASE_URL`` naming another database on the server Django is connected to."""

from __future__ import annotations

from urllib.parse import quote


def database_url(conninfo: dict, name: str) -> str:
    """The URL of database ``name`` on the server of ``conninfo`` (psycopg connection
    parameters): how a ``manage.py`` subprocess is pointed at a scratch database."""
    user = quote(conninfo.get("user") or "", safe="")
    password = quote(conninfo.get("password") or "", safe="")
    auth = f"{user}:{password}@" if password else f"{user}@"
    host = conninfo.get("host") or "localhost"
    if host.startswith("/"):  # unix socket: django-environ takes it as a parameter
        return f"postgres://{auth}/{name}?host={quote(host)}"
    port = f":{conninfo['port']}" if conninfo.get("port") else ""
    return f"postgres://{auth}{host}{port}/{name}"
