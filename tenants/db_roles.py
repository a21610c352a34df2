"""The application's role gets its privileges after every migration.

Migrations run as the owner of the tables (``DATABASES["owner"]``); the application
connects as another role (``DATABASES["default"]``), which may read and write every
table but the audit log, on which it may only SELECT and INSERT: no UPDATE, DELETE,
TRUNCATE, ALTER or DROP, which only the owner may do. Granting after each ``migrate``
covers the tables each migration adds, the job queue's included.
"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connections


def application_role(owner_alias: str) -> str | None:
    """The application's role, when it is not the owner's (one-role deployments)."""
    app_user = connections[DEFAULT_DB_ALIAS].settings_dict.get("USER")
    owner_user = connections[owner_alias].settings_dict.get("USER")
    if not app_user or app_user == owner_user or owner_alias == DEFAULT_DB_ALIAS:
        return None
    return app_user


def grant_application_role(sender, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    role = application_role(using)
    if role is None:
        return
    connection = connections[using]
    quoted = connection.ops.quote_name(role)
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {quoted}")
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}"
        )
        cursor.execute(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {quoted}")
        cursor.execute("SELECT to_regclass('audit_log')")
        if cursor.fetchone()[0] is not None:
            cursor.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM {quoted}")


def mark_leakproof(sender, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """Mark the functions of the project's index expressions leakproof, which only a
    superuser may do (config/db/rls.py says why): done where the embedded server gives
    one; elsewhere an operator runs the statements ``check_migration`` prints."""
    settings_dict = connections[using].settings_dict
    if not settings_dict.get("EMBEDDED_PGDATA"):
        return
    import psycopg

    from config.db.rls import LEAKPROOF_PROJECT_FUNCTIONS

    host = connections[using].get_connection_params()["host"]
    with psycopg.connect(
        host=host, user="postgres", dbname=settings_dict["NAME"], autocommit=True
    ) as conn:
        for function in LEAKPROOF_PROJECT_FUNCTIONS:
            exists = conn.execute("SELECT to_regprocedure(%s)", [function]).fetchone()[0]
            if exists:
                conn.execute(f"ALTER FUNCTION {function} LEAKPROOF")
