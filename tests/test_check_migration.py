"""``manage.py check_migration``: the post-migration checklist (projects.legacy_checklist).

The good case runs in-process on the migrated test database; each broken case runs the
command in a subprocess against a scratch database of its own, broken with raw SQL.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from projects.legacy_checklist import (
    CONTRACT_ENUM_TYPES,
    CONTRACT_INDEXES,
    INDEXES_SERVED_BY,
    model_enum_types,
)
from rag.models import EMBEDDING_DIMENSIONS, DocumentChunk, Memoire
from tenants.models import Company
from tests.scratch import ScratchDatabase


def _vector(i: int) -> list[float]:
    """A 1536-dimension embedding with positive components (similarities stay >= 0)."""
    values = [1.0] * EMBEDDING_DIMENSIONS
    values[i % EMBEDDING_DIMENSIONS] = 2.0 + i
    return values


def _vector_sql(i: int) -> str:
    return "[" + ",".join(str(v) for v in _vector(i)) + "]"


def _lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.strip()]


def _line(stdout: str, name: str) -> str:
    """The output line of the check called ``name``."""
    found = [line for line in _lines(stdout) if line[2:].startswith(f"{name}:")]
    assert len(found) == 1, f"no single line for {name!r} in:\n{stdout}"
    return found[0]


def _run(**options) -> str:
    out = StringIO()
    call_command("check_migration", stdout=out, **options)
    return out.getvalue()


# --- in-process, on the migrated test database ----------------------------------------


def test_models_declare_exactly_the_contract_enum_types():
    types, conflicts = model_enum_types()
    assert sorted(types) == sorted(CONTRACT_ENUM_TYPES)
    assert conflicts == []


def test_the_only_contract_index_left_out_is_served_by_a_contract_index():
    assert set(INDEXES_SERVED_BY) == {"idx_sections_project_id"}
    assert all(by in CONTRACT_INDEXES for by in INDEXES_SERVED_BY.values())


@pytest.mark.django_db
def test_passes_on_the_migrated_database():
    company = Company.objects.create(name="BTP Test")
    memoire = Memoire.objects.create(company=company, filename="m.pdf", storage_path="/m.pdf")
    DocumentChunk.objects.bulk_create(
        DocumentChunk(memoire=memoire, company=company, content=f"chunk {i}", embedding=_vector(i))
        for i in range(7)
    )
    DocumentChunk.objects.create(memoire=memoire, content="not embedded")

    stdout = _run()

    lines = _lines(stdout)
    assert lines, "no output"
    assert all(line.startswith("✅") for line in lines), stdout
    assert "15/15 present" in _line(stdout, "Tables")
    assert "8 rows (7 with an embedding)" in _line(stdout, "document_chunks")
    assert "returned 5 rows" in _line(stdout, "Vector search")
    assert "no legacy rows were migrated" in _line(stdout, "Migrated-data company")
    assert "idx_sections_project_id served by idx_sections_project" in _line(
        stdout, "Contract indexes"
    )
    for enum_type in CONTRACT_ENUM_TYPES:
        assert _line(stdout, f"Enum {enum_type}").startswith("✅")
    assert lines[-1].startswith("✅ Checklist passed")


@pytest.mark.django_db(transaction=True)  # the index is rebuilt by its owner
@pytest.mark.usefixtures("restore_vector_indexes")
def test_an_ivfflat_index_with_too_few_lists_for_its_chunks_is_noted(monkeypatch):
    from django.db import connections

    from projects import legacy_checklist as schema_checklist

    # The legacy index, as rag.0005 leaves it on a big table until the vector index
    # job has built the HNSW one.
    with connections["owner"].cursor() as cursor:
        cursor.execute("DROP INDEX document_chunks_embedding_idx")
        cursor.execute(
            "CREATE INDEX document_chunks_embedding_idx ON document_chunks "
            "USING ivfflat (embedding vector_cosine_ops) WITH (lists = 10)"
        )

    company = Company.objects.create(name="BTP Test")
    memoire = Memoire.objects.create(company=company, filename="m.pdf", storage_path="/m.pdf")
    DocumentChunk.objects.bulk_create(
        DocumentChunk(memoire=memoire, company=company, content=f"chunk {i}", embedding=_vector(i))
        for i in range(30)
    )
    assert "lists for" not in _line(_run(), "Vector search")

    # As if the 30 chunks were 30,000, which about 30 lists suit, not 10.
    monkeypatch.setattr(schema_checklist, "UNTUNED_INDEX_MIN_CHUNKS", 20)
    real_rows = schema_checklist._rows

    def rows(connection, sql, params=None):
        return real_rows(
            connection, sql.replace("count(embedding)", "count(embedding) * 1000"), params
        )

    monkeypatch.setattr(schema_checklist, "_rows", rows)
    line = _line(_run(), "Vector search")
    assert line.startswith("✅")
    assert "the ivfflat index has 10 lists for 30,000 embedded chunks, about 30 would" in line
    assert "python manage.py tune_vector_index" in line


@pytest.mark.django_db
def test_expected_chunk_count_is_compared():
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("check_migration", expected_chunks=3, stdout=out)
    assert _line(out.getvalue(), "document_chunks").startswith(
        "❌ document_chunks: 0 rows (0 with an embedding), expected 3"
    )
    assert "as before migrating" in _line(_run(expected_chunks=0), "document_chunks")


# --- broken databases, in a subprocess -----------------------------------------------


@pytest.mark.migrations
def test_fails_on_a_database_never_migrated_or_unreachable(scratch_db):
    result = scratch_db.manage("check_migration", check=False)

    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    lines = _lines(result.stdout)
    assert all(line[0] in "✅❌" for line in lines), result.stdout
    assert _line(result.stdout, "Tables").startswith("❌ Tables: 0/15 present, missing: companies")
    assert "unapplied migration" in _line(result.stdout, "Migrations")
    assert "type missing" in _line(result.stdout, "Enum user_role_enum")
    assert _line(result.stdout, "Vector search").startswith("❌")
    assert lines[-1].startswith("❌ Checklist FAILED")

    unreachable = ScratchDatabase(f"{scratch_db.name}_absent", scratch_db.conninfo)
    result = unreachable.manage("check_migration", check=False)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    assert _lines(result.stdout)[0].startswith("❌ Database: cannot connect to ")
    assert _lines(result.stdout)[-1].startswith("❌ Checklist FAILED")


@pytest.mark.migrations
def test_fails_on_a_missing_table_and_a_missing_index(scratch_db):
    scratch_db.manage("migrate")
    scratch_db.execute("DROP TABLE content_matches")
    scratch_db.execute("DROP INDEX idx_projects_created_by")

    result = scratch_db.manage("check_migration", check=False)

    assert result.returncode != 0, result.stdout
    out = result.stdout
    assert _line(out, "Tables") == "❌ Tables: 14/15 present, missing: content_matches"
    # The indexes and foreign key of the dropped table are counted, not listed.
    assert _line(out, "Contract indexes") == (
        "❌ Contract indexes: missing: idx_projects_created_by (on projects); "
        "2 indexes on missing tables"
    )
    # content_matches' project, company and past project.
    assert _line(out, "ON DELETE rules") == ("❌ ON DELETE rules: 3 foreign keys on missing tables")
    # What was not broken still passes.
    assert _line(out, "Enum project_status_enum").startswith("✅")
    assert _line(out, "NULL company_id").startswith("✅")
    assert _line(out, "Migrations").startswith("✅")


@pytest.mark.migrations
def test_fails_on_wrong_on_delete_rule_missing_enum_value_and_null_company(scratch_db):
    scratch_db.manage("migrate")
    # The legacy FK sections.project_id loses its ON DELETE CASCADE.
    scratch_db.execute(
        "ALTER TABLE sections DROP CONSTRAINT sections_project_id_fkey, "
        "ADD CONSTRAINT sections_project_id_fkey FOREIGN KEY (project_id) REFERENCES projects (id)"
    )
    # generation_status_enum recreated without 'failed'.
    scratch_db.execute(
        """
        ALTER TABLE generation_requests ALTER COLUMN status DROP DEFAULT;
        ALTER TYPE generation_status_enum RENAME TO generation_status_enum_old;
        CREATE TYPE generation_status_enum AS ENUM ('pending', 'in_progress', 'completed');
        ALTER TABLE generation_requests ALTER COLUMN status TYPE generation_status_enum
            USING status::text::generation_status_enum;
        ALTER TABLE generation_requests ALTER COLUMN status SET DEFAULT 'pending';
        DROP TYPE generation_status_enum_old;
        """
    )
    # A memoire without a company.
    scratch_db.execute("ALTER TABLE memoires ALTER COLUMN company_id DROP NOT NULL")
    scratch_db.execute("INSERT INTO memoires (filename, storage_path) VALUES ('orphan.pdf', '/o')")

    result = scratch_db.manage("check_migration", check=False)

    assert result.returncode != 0, result.stdout
    out = result.stdout
    assert _line(out, "ON DELETE rules") == (
        "❌ ON DELETE rules: sections.project_id is NO ACTION, expected CASCADE"
    )
    enum = _line(out, "Enum generation_status_enum")
    assert enum.startswith("❌ Enum generation_status_enum: missing failed")
    nulls = _line(out, "NULL company_id")
    assert nulls.startswith("❌")
    assert "memoires 1 (company_id allows NULL)" in nulls
    assert "projects 0," in nulls
    # What was not broken still passes.
    assert _line(out, "Tables").startswith("✅")
    assert _line(out, "Enum project_status_enum").startswith("✅")
    assert _line(out, "Contract indexes").startswith("✅")
    assert _lines(out)[-1].startswith("❌ Checklist FAILED")


@pytest.mark.migrations
def test_passes_on_an_adopted_legacy_database(legacy_db):
    legacy_db.execute(
        """
        INSERT INTO projects (name, status) VALUES ('Groupe scolaire', 'ready'), ('Pont', 'failed');
        INSERT INTO sections (project_id, section_type, title, order_num)
            SELECT id, 'methodologie', 'Méthodologie', 1 FROM projects;
        INSERT INTO memoires (filename, storage_path, client, year)
            VALUES ('a.pdf', '/a.pdf', 'Ville', 2022), ('b.pdf', '/b.pdf', NULL, NULL);
        """
    )
    for i in range(3):
        legacy_db.execute(
            "INSERT INTO document_chunks (memoire_id, content, embedding) "
            "SELECT id, %s, %s::vector FROM memoires WHERE filename = 'a.pdf'",
            [f"passage {i}", _vector_sql(i)],
        )
    legacy_db.manage("migrate", "--fake-initial")

    # Off the embedded server's own migrate, only a superuser can mark the project's
    # functions leakproof: the checklist says so and gives the statements to run.
    result = legacy_db.manage("check_migration", "--expected-chunks", "3", check=False)
    leakproof = _line(result.stdout, "Leakproof functions")
    assert leakproof.startswith("❌"), result.stdout
    statements = leakproof.split("as a superuser run: ", 1)[1]
    assert "ALTER FUNCTION enpyco_fts(text) LEAKPROOF;" in statements
    legacy_db.execute_as_superuser(statements)

    result = legacy_db.manage("check_migration", "--expected-chunks", "3", check=False)

    assert result.returncode == 0, result.stdout + result.stderr
    lines = _lines(result.stdout)
    assert all(line.startswith("✅") for line in lines), result.stdout
    assert _line(result.stdout, "Migrated-data company") == (
        "✅ Migrated-data company: 'Enpyco (Migrated Data)' exists with settings "
        '{"migrated": true} and holds 2 projects, 2 memoires'
    )
    assert "3 rows (3 with an embedding), as before migrating" in _line(
        result.stdout, "document_chunks"
    )
    assert "returned 3 rows" in _line(result.stdout, "Vector search")
