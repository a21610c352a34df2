"""Legacy rows as the legacy application wrote them, and schema/row snapshots used to
prove the migration is lossless."""

from __future__ import annotations

from tests.scratch import ScratchDatabase

LEGACY_TABLES = ("memoires", "projects", "sections", "document_chunks")

# Every status the legacy application wrote, and what it must become; then values it
# never should have written, which must not break the migration.
LEGACY_STATUSES = {
    "draft": "draft",
    "generating": "generating",
    "ready": "generated",
    "partial": "generating",
    "failed": "draft",
    None: "draft",
    "DRAFT": "draft",
    " Ready ": "generated",
    "genrating": "draft",
    "": "draft",
}

EMBEDDING = "[" + ",".join(str((i % 7) / 10) for i in range(1536)) + "]"


def fill_legacy_database(db: ScratchDatabase) -> None:
    """Projects in every status, sections, memoires and chunks, with NULLs, accents
    and quotes where the legacy columns allow them."""
    with db.connect() as conn:
        for i, status in enumerate(LEGACY_STATUSES):
            conn.execute(
                "INSERT INTO projects (name, rc_storage_path, rc_context, status) "
                "VALUES (%s, %s, %s, %s)",
                [
                    f"Réhabilitation de l'école « Jules-Ferry » n°{i}",
                    None if i % 2 else f"rc/{i}/règlement.pdf",
                    'Marché "MAPA" — lot n°2 : gros œuvre' if i % 3 else None,
                    status,
                ],
            )
        # The column default, as the legacy application relied on.
        conn.execute("INSERT INTO projects (name) VALUES ('Défaut')")
        conn.execute(
            "INSERT INTO sections (project_id, section_type, title, content, order_num) "
            "SELECT id, 'methodologie', 'Méthodologie d''exécution', "
            "'Phasage : démolition, gros œuvre…', 1 FROM projects"
        )
        conn.execute(
            "INSERT INTO sections (project_id, section_type, title) "
            "SELECT id, 'moyens', 'Moyens humains' FROM projects WHERE status = 'ready'"
        )
        conn.execute(
            "INSERT INTO memoires (filename, storage_path, client, year, indexed) VALUES "
            "('mémoire_collège.pdf', 'memoires/a.pdf', 'Ville d''Évry', 2021, true), "
            "('sans-client.docx', 'memoires/b.docx', NULL, NULL, NULL), "
            "('défaut.txt', 'memoires/c.txt', 'Département \"93\"', 2019, DEFAULT)"
        )
        conn.execute(
            "INSERT INTO document_chunks (memoire_id, content, embedding, metadata) "
            "SELECT id, 'Sécurité du chantier : PPSPS, port des EPI.', %s::vector, "
            '\'{"page": 3, "heading": "Sécurité"}\'::jsonb FROM memoires',
            [EMBEDDING],
        )
        conn.execute(
            "INSERT INTO document_chunks (memoire_id, content, embedding, metadata) "
            "SELECT id, 'Chunk sans embedding ni métadonnées', NULL, NULL FROM memoires"
        )


def row_snapshot(db: ScratchDatabase) -> dict[str, list[str]]:
    """Every legacy row, every column value, as JSON text, in a stable order."""
    return {
        table: [r[0] for r in db.execute(f"SELECT row_to_json(t)::text FROM {table} t ORDER BY id")]
        for table in LEGACY_TABLES
    }


def schema_snapshot(db: ScratchDatabase, tables: tuple[str, ...] = LEGACY_TABLES) -> dict:
    """Columns, constraints, indexes of ``tables``, user enum types and functions (the job
    queue's own, ``procrastinate_*``, left out: they outlive the product's migrations)."""
    columns = db.execute(
        "SELECT table_name, column_name, ordinal_position, data_type, udt_name, "
        "character_maximum_length, is_nullable, column_default "
        "FROM information_schema.columns WHERE table_schema = 'public' "
        "AND table_name = ANY(%s) ORDER BY table_name, ordinal_position",
        [list(tables)],
    )
    constraints = db.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
        "FROM pg_constraint WHERE connamespace = 'public'::regnamespace "
        "AND conrelid::regclass::text = ANY(%s) ORDER BY 1, 2",
        [list(tables)],
    )
    indexes = db.execute(
        "SELECT tablename, indexname, indexdef FROM pg_indexes "
        "WHERE schemaname = 'public' AND tablename = ANY(%s) ORDER BY 1, 2",
        [list(tables)],
    )
    enums = db.execute(
        "SELECT typname FROM pg_type WHERE typtype = 'e' "
        "AND typnamespace = 'public'::regnamespace AND typname NOT LIKE 'procrastinate%%' "
        "ORDER BY 1"
    )
    functions = db.execute(
        "SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p "
        "WHERE p.pronamespace = 'public'::regnamespace AND p.prokind = 'f' "
        "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e') "
        "AND p.proname NOT LIKE 'procrastinate%%' ORDER BY 1"
    )
    triggers = db.execute(
        "SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal "
        "AND tgname NOT LIKE 'procrastinate%%' ORDER BY 1, 2"
    )
    return {
        "columns": columns,
        "constraints": constraints,
        "indexes": indexes,
        "enums": enums,
        "functions": functions,
        "triggers": triggers,
    }


def public_tables(db: ScratchDatabase) -> set[str]:
    return {r[0] for r in db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


#: Django's own bookkeeping tables and the job queue's, which outlive `migrate tenants
#: zero` (they belong to no app of the product).
DJANGO_TABLES = {
    "django_migrations",
    "django_content_type",
    "django_session",
    "auth_permission",
    "auth_group",
    "auth_group_permissions",
    "procrastinate_jobs",
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_workers",
}
