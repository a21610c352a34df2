"""How legacy ``projects.status`` strings map to ``project_status_enum``.

(A module name starting with "_" is not a migration: the loader skips it.)

The legacy application wrote 'draft', 'generating', 'ready', 'partial' and 'failed';
each maps to the closest state of the new workflow (case and surrounding spaces
ignored), and anything else, NULL included, becomes 'draft'. Where the stored string
is not exactly its new label, tenants.0002 keeps the original in
``metadata['legacy_status']``, so the way back restores it, unless the project's
status was changed since.
"""

LEGACY_STATUS_MAP = {
    "ready": "generated",  # every section generated, nothing reviewed yet
    "partial": "generating",  # some sections still to generate
    "failed": "draft",  # nothing usable was produced: start the workflow again
}
NEW_STATES = [
    "draft",
    "rc_analyzing",
    "rc_analyzed",
    "matching",
    "matched",
    "generating",
    "generated",
    "reviewing",
    "completed",
    "submitted",
]


def mapped(expr: str) -> str:
    """SQL CASE giving the new state (as text) of a legacy status expression."""
    whens = {**{state: state for state in NEW_STATES}, **LEGACY_STATUS_MAP}
    cases = " ".join(f"WHEN '{old}' THEN '{new}'" for old, new in whens.items())
    return f"(CASE lower(btrim({expr})) {cases} ELSE 'draft' END)"


#: metadata with the original status kept where it is not exactly its new label.
METADATA_WITH_LEGACY_STATUS = f"""
    CASE WHEN status IS NULL OR status <> {mapped("status")}
         THEN metadata || jsonb_build_object('legacy_status', status)
         ELSE metadata
    END
"""

STATUS_TO_ENUM = f"""
ALTER TABLE projects
    ALTER COLUMN status DROP DEFAULT,
    ALTER COLUMN status TYPE project_status_enum USING {mapped("status")}::project_status_enum,
    ALTER COLUMN status SET DEFAULT 'draft',
    ALTER COLUMN status SET NOT NULL;
"""

STATUS_FROM_ENUM = f"""
ALTER TABLE projects
    ALTER COLUMN status DROP NOT NULL,
    ALTER COLUMN status DROP DEFAULT,
    ALTER COLUMN status TYPE varchar(50)
        USING CASE
            WHEN metadata ? 'legacy_status'
                 AND status::text = {mapped("metadata->>'legacy_status'")}
            THEN metadata->>'legacy_status'
            ELSE status::text
        END,
    ALTER COLUMN status SET DEFAULT 'draft';
"""
