"""Build a legacy database of a chosen size, fast, for timing the migration.

Rows are generated inside PostgreSQL (``generate_series``), so a million projects take
seconds to create, not the hours a Python loop would.
"""

from __future__ import annotations

from django.db import DatabaseError

#: Statuses the legacy application wrote, in the proportions the benchmark uses.
LEGACY_STATUS_CYCLE = ["draft", "generating", "ready", "ready", "partial", "failed", None]

SECTIONS_PER_PROJECT = 3
PROJECTS_PER_MEMOIRE = 100
CHUNKS_PER_MEMOIRE = 4


def fill_legacy_tables(cursor, projects: int) -> dict[str, int]:
    """Insert ``projects`` projects and their sections, memoires and chunks."""
    statuses = (
        "ARRAY["
        + ", ".join("NULL" if s is None else f"'{s}'" for s in LEGACY_STATUS_CYCLE)
        + "]::varchar[]"
    )
    cursor.execute(
        f"""
        INSERT INTO projects (name, rc_storage_path, rc_context, status, created_at)
        SELECT 'Projet n°' || g,
               CASE WHEN g %% 2 = 0 THEN 'rc/' || g || '/rc.pdf' END,
               CASE WHEN g %% 3 = 0 THEN 'Marché de travaux — lot ' || (g %% 12) END,
               ({statuses})[1 + g %% {len(LEGACY_STATUS_CYCLE)}],
               now() - make_interval(mins => g)
        FROM generate_series(1, %s) AS g
        """,
        [projects],
    )
    cursor.execute(
        """
        INSERT INTO sections (project_id, section_type, title, content, order_num)
        SELECT p.id, 'section-' || n, 'Section ' || n, 'Contenu de la section ' || n, n
        FROM projects p CROSS JOIN generate_series(1, %s) AS n
        """,
        [SECTIONS_PER_PROJECT],
    )
    memoires = max(1, projects // PROJECTS_PER_MEMOIRE)
    cursor.execute(
        """
        INSERT INTO memoires (filename, storage_path, client, year, indexed)
        SELECT 'memoire-' || g || '.pdf', 'memoires/' || g || '.pdf',
               'Client ' || (g %% 50), 2010 + g %% 15, true
        FROM generate_series(1, %s) AS g
        """,
        [memoires],
    )
    cursor.execute(
        """
        INSERT INTO document_chunks (memoire_id, content, embedding, metadata)
        SELECT m.id, 'Passage ' || n || ' du mémoire ' || m.filename,
               CASE WHEN n %% 2 = 0
                    THEN array_fill((n %% 10)::real / 10 + 0.01, ARRAY[1536])::vector
               END,
               jsonb_build_object('page', n)
        FROM memoires m CROSS JOIN generate_series(1, %s) AS n
        """,
        [CHUNKS_PER_MEMOIRE],
    )
    return {
        "projects": projects,
        "sections": projects * SECTIONS_PER_PROJECT,
        "memoires": memoires,
        "document_chunks": memoires * CHUNKS_PER_MEMOIRE,
    }


def settle(cursor) -> str:
    """Bring freshly generated tables to the state of a database at rest.

    A production database has been vacuumed (its rows' visibility hints written) and
    checkpointed long before it is migrated. Rows just inserted have neither: the
    migration's first pass over them would write every page once more for the hints,
    and the next checkpoint would flush the load's own gigabyte of pages. Neither is
    the migration's work. Returns what was done, for the output."""
    cursor.execute("VACUUM (ANALYZE)")
    try:
        cursor.execute("CHECKPOINT")  # superuser or pg_checkpoint only
    except DatabaseError as error:  # not allowed on this server: measure without it
        return f"vacuumed; no CHECKPOINT ({type(error).__name__})"
    return "vacuumed, checkpointed"
