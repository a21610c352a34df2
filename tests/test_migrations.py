"""The migration from the legacy database, run as operators run it: ``manage.py
migrate`` in a subprocess against a database of its own."""

from __future__ import annotations

import json

import pytest

from tests.legacy_data import (
    DJANGO_TABLES,
    LEGACY_STATUSES,
    LEGACY_TABLES,
    fill_legacy_database,
    public_tables,
    row_snapshot,
    schema_snapshot,
)

pytestmark = pytest.mark.migrations

NEW_TABLES = {
    "companies",
    "users",
    "content_blocks",
    "files",
    "block_files",
    "past_projects",
    "section_templates",
    "rc_analysis",
    "content_matches",
    "generation_requests",
    "audit_log",
}


def test_initial_migrations_create_exactly_the_legacy_schema(legacy_db, scratch_db_factory):
    from_migrations = scratch_db_factory()
    from_migrations.manage("migrate", "projects", "0001")
    from_migrations.manage("migrate", "rag", "0001")

    assert public_tables(from_migrations) - {"django_migrations"} == set(LEGACY_TABLES)
    assert schema_snapshot(from_migrations) == schema_snapshot(legacy_db)


def test_legacy_database_is_adopted_migrated_and_restored(legacy_db):
    fill_legacy_database(legacy_db)
    legacy_schema = schema_snapshot(legacy_db)
    legacy_rows = row_snapshot(legacy_db)
    chunk_count = len(legacy_rows["document_chunks"])

    out = legacy_db.manage("migrate", "--fake-initial").stdout
    assert "projects.0001_initial... FAKED" in out
    assert "rag.0001_initial... FAKED" in out

    # The 15 tables of the contract, every legacy row owned by the migrated company.
    assert NEW_TABLES | set(LEGACY_TABLES) <= public_tables(legacy_db)
    [(company_id, settings)] = legacy_db.execute(
        "SELECT id, settings FROM companies WHERE name = 'Enpyco (Migrated Data)'"
    )
    assert settings == {"migrated": True}
    [(user_id, is_active, password, user_company)] = legacy_db.execute(
        "SELECT id, is_active, password_hash, company_id FROM users"
    )
    assert (is_active, password.startswith("!"), user_company) == (False, True, company_id)
    assert legacy_db.execute(
        "SELECT count(*) FROM projects WHERE company_id IS DISTINCT FROM %s "
        "OR created_by IS DISTINCT FROM %s",
        [company_id, user_id],
    ) == [(0,)]
    assert legacy_db.execute(
        "SELECT count(*) FROM memoires WHERE company_id IS DISTINCT FROM %s "
        "OR uploaded_by IS DISTINCT FROM %s",
        [company_id, user_id],
    ) == [(0,)]
    assert legacy_db.execute("SELECT count(*) FROM document_chunks") == [(chunk_count,)]

    # Every legacy status maps to its closest state; the column is the enum now.
    statuses = dict(
        legacy_db.execute(
            "SELECT name, status::text FROM projects WHERE name LIKE 'Réhabilitation%'"
        )
    )
    for i, (old, new) in enumerate(LEGACY_STATUSES.items()):
        name = f"Réhabilitation de l'école « Jules-Ferry » n°{i}"
        assert statuses[name] == new, f"{old!r} should become {new!r}"
    assert legacy_db.execute(
        "SELECT udt_name, is_nullable, column_default FROM information_schema.columns "
        "WHERE table_name = 'projects' AND column_name = 'status'"
    ) == [("project_status_enum", "NO", "'draft'::project_status_enum")]

    # A second migrate applies nothing.
    assert "No migrations to apply." in legacy_db.manage("migrate").stdout

    # A project changed after the migration keeps its new status on the way back.
    legacy_db.execute(
        "UPDATE projects SET status = 'reviewing' WHERE name LIKE '%%n°2'"  # was 'ready'
    )
    expected_rows = _normalised(legacy_rows)
    for row in expected_rows["projects"]:
        if row["name"].endswith("n°2"):
            row["status"] = "reviewing"

    legacy_db.manage("migrate", "tenants", "zero")

    assert public_tables(legacy_db) == set(LEGACY_TABLES) | DJANGO_TABLES
    assert schema_snapshot(legacy_db) == legacy_schema
    restored = row_snapshot(legacy_db)
    assert restored["projects"] != legacy_rows["projects"]  # the reviewed project
    assert _normalised(restored) == expected_rows


def _normalised(snapshot: dict[str, list[str]]) -> dict[str, list[dict]]:
    return {table: [json.loads(r) for r in rows] for table, rows in snapshot.items()}


def test_reverse_restores_every_row_exactly(legacy_db):
    fill_legacy_database(legacy_db)
    before = row_snapshot(legacy_db)

    legacy_db.manage("migrate", "--fake-initial")
    legacy_db.manage("migrate", "tenants", "zero")

    assert row_snapshot(legacy_db) == before
    # And forward again, as an operator would after a rollback.
    legacy_db.manage("migrate")
    assert legacy_db.execute("SELECT count(*) FROM companies") == [(1,)]


def test_fresh_database_gets_no_migrated_company(scratch_db):
    scratch_db.manage("migrate")
    assert scratch_db.execute("SELECT count(*) FROM companies") == [(0,)]
    assert scratch_db.execute("SELECT count(*) FROM users") == [(0,)]


def test_legacy_rows_go_to_the_migrated_company_when_other_companies_exist(legacy_db):
    fill_legacy_database(legacy_db)
    legacy_db.manage("migrate", "--fake-initial", "projects", "0002")
    legacy_db.manage("migrate", "--fake-initial", "rag", "0002")
    legacy_db.execute("INSERT INTO companies (name) VALUES ('Bâtiments Dupont')")

    legacy_db.manage("migrate")

    rows = legacy_db.execute(
        "SELECT c.name, count(p.id) FROM companies c LEFT JOIN projects p "
        "ON p.company_id = c.id GROUP BY c.name ORDER BY 1"
    )
    assert rows == [("Bâtiments Dupont", 0), ("Enpyco (Migrated Data)", len(LEGACY_STATUSES) + 1)]


def test_failed_migration_leaves_the_database_as_it_was(legacy_db):
    """projects.0003 fails at its last operation (an index name already taken):
    everything it did before — the status conversion, NOT NULL, the validated foreign
    keys — is undone."""
    fill_legacy_database(legacy_db)
    legacy_db.manage("migrate", "--fake-initial", "tenants", "0002")
    legacy_db.execute("CREATE INDEX idx_projects_created_by ON memoires (filename)")
    before = row_snapshot(legacy_db)

    result = legacy_db.manage("migrate", "projects", "0003", check=False)

    assert result.returncode != 0
    assert "idx_projects_created_by" in result.stderr
    assert legacy_db.execute(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_name = 'projects' AND column_name IN ('status', 'company_id') ORDER BY 1"
    ) == [("company_id", "uuid", "YES"), ("status", "character varying", "YES")]
    assert legacy_db.execute(
        "SELECT count(*) FROM pg_constraint WHERE conrelid = 'projects'::regclass AND contype = 'f'"
    ) == [(0,)]
    assert row_snapshot(legacy_db) == before
    assert legacy_db.execute(
        "SELECT count(*) FROM django_migrations WHERE app = 'projects' AND name = '0003_company_required'"
    ) == [(0,)]
