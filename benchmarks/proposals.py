"""The changes the benchmark report proposes, measured before anyone edits the
application (``manage.py benchmark --proposals``).

Nothing here changes the application: ``PROPOSED_INDEXES`` are created in the scratch
database for the run and dropped after it. Each names the model whose ``Meta.indexes``
the real change belongs to (see docs/performance.md).
"""

from __future__ import annotations

#: (name, definition, where the real change goes). Empty: the three indexes proposed by
#: the first full run (idx_content_blocks_company_updated, idx_audit_log_company_action,
#: idx_audit_log_resource_id) are in the migrations now, and listing them here made
#: ``--proposals`` drop those schema indexes after its run.
PROPOSED_INDEXES: list[tuple[str, str, str]] = []


def descriptions() -> list[str]:
    return [f"index `{name}`: {where}" for name, _sql, where in PROPOSED_INDEXES]
