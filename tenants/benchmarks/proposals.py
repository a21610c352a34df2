"""The changes the benchmark report proposes, measured before anyone edits the
application (``manage.py benchmark --proposals``).

Nothing here changes the application: ``PROPOSED_INDEXES`` are created in the scratch
database for the run and dropped after it. Each names the model whose ``Meta.indexes``
the real change belongs to (see docs/performance.md).
"""

from __future__ import annotations

#: (name, definition, where the real change goes).
PROPOSED_INDEXES = [
    (
        "idx_content_blocks_company_updated",
        "CREATE INDEX idx_content_blocks_company_updated "
        "ON content_blocks (company_id, updated_at DESC)",
        "library/models.py ContentBlock.Meta.indexes: a company's blocks newest first "
        "(the model's and the admin's ordering, the date hierarchy's min/max, the pages "
        "of tagged_all/tagged_any)",
    ),
    (
        "idx_audit_log_company_action",
        "CREATE INDEX idx_audit_log_company_action "
        'ON audit_log (company_id, action varchar_pattern_ops, "timestamp" DESC)',
        "audit/models.py AuditLog.Meta.indexes: the admin's action filter and its search "
        "by action prefix (LIKE 'project.%'), newest first",
    ),
    (
        "idx_audit_log_resource_id",
        "CREATE INDEX idx_audit_log_resource_id ON audit_log (resource_id)",
        "audit/models.py AuditLog.Meta.indexes: the admin's search by a resource's id "
        "(resource_id = … OR user_id = …; idx_audit_log_resource leads with resource_type)",
    ),
]


def descriptions() -> list[str]:
    return [f"index `{name}`: {where}" for name, _sql, where in PROPOSED_INDEXES]
