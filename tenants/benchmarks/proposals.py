"""Prototypes of the changes the benchmark report proposes, to measure them before
anyone edits the application (``manage.py benchmark --proposals``).

Nothing here changes the application: ``apply_admin_proposals`` patches the admin
*instances* of the measuring subprocess only, and ``PROPOSED_INDEXES`` are created in
the scratch database for the run and dropped after it. Each item names the existing
file the real change belongs to (see docs/performance.md).
"""

from __future__ import annotations

import types
import uuid

from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import Q
from django.utils.functional import cached_property

#: (name, definition): indexes the report proposes, created for a --proposals run.
PROPOSED_INDEXES = [
    # library/models.py ContentBlock.Meta.indexes: a company's blocks newest first (the
    # model's and the admin's ordering), also the plan of tagged_all/tagged_any pages.
    (
        "idx_content_blocks_company_updated",
        "CREATE INDEX idx_content_blocks_company_updated "
        "ON content_blocks (company_id, updated_at DESC)",
    ),
    # audit/models.py AuditLog.Meta.indexes: the admin's search by a resource's id.
    (
        "idx_audit_log_resource_id",
        "CREATE INDEX idx_audit_log_resource_id ON audit_log (resource_id)",
    ),
]


class CappedCountPaginator(Paginator):
    """Counts at most ``cap + 1`` rows (``SELECT count(*) FROM (… LIMIT cap + 1)``):
    enough to draw the next ten pages, whatever the size of the table.
    (tenants/admin_base.py)"""

    def __init__(self, object_list, per_page, *, cap: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: self.cap + 1].count()


def capped_get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
    """TenantScopedAdmin.get_paginator: cap the count ten pages past the current one."""
    try:
        page = max(1, int(request.GET.get("p", 1)))
    except ValueError:
        page = 1
    return CappedCountPaginator(
        queryset,
        per_page,
        orphans=orphans,
        allow_empty_first_page=allow_empty_first_page,
        cap=(page + 10) * per_page,
    )


class RecentValuesFieldListFilter(admin.AllValuesFieldListFilter):
    """The values of a free-text column among the company's latest ``sample`` rows,
    instead of ``SELECT DISTINCT`` over all of them. (tenants/admin_base.py)"""

    sample = 1000

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        recent = (
            model_admin.get_queryset(request)
            .order_by(*model_admin.get_ordering(request))
            .values_list(field.name, flat=True)[: self.sample]
        )
        values = set(recent)
        if self.lookup_val:
            values.update(self.lookup_val)
        self.lookup_choices = sorted(values, key=lambda v: (v is None, str(v or "")))


def audit_search(self, request, queryset, search_term):
    """AuditLogAdmin.get_search_results: an id is looked up by equality on user_id and
    resource_id (indexes), other text in ``action`` only. (audit/admin.py)"""
    term = search_term.strip()
    if not term:
        return queryset, False
    try:
        value = uuid.UUID(term)
    except ValueError:
        return admin.ModelAdmin.get_search_results(self, request, queryset, term)
    return queryset.filter(Q(user_id=value) | Q(resource_id=value)), False


def apply_admin_proposals() -> list[str]:
    """Patch the registered admin instances; a description of each change."""
    from audit.models import AuditLog
    from library.models import ContentBlock
    from projects.models import Project
    from tenants.admin_base import TenantScopedAdmin

    site = admin.site
    for model_admin in site._registry.values():
        if isinstance(model_admin, TenantScopedAdmin):
            model_admin.get_paginator = types.MethodType(capped_get_paginator, model_admin)
    dates = admin.DateFieldListFilter

    blocks = site._registry[ContentBlock]
    blocks.date_hierarchy = None
    blocks.list_filter = (*blocks.list_filter, ("updated_at", dates))

    projects = site._registry[Project]
    projects.date_hierarchy = None
    projects.list_filter = (
        *(
            ("project_type", RecentValuesFieldListFilter) if f == "project_type" else f
            for f in projects.list_filter
        ),
        ("created_at", dates),
    )

    audit = site._registry[AuditLog]
    audit.date_hierarchy = None
    audit.list_filter = (
        ("action", RecentValuesFieldListFilter),
        ("resource_type", RecentValuesFieldListFilter),
        ("timestamp", dates),
    )
    audit.search_fields = ("action",)
    audit.get_search_results = types.MethodType(audit_search, audit)
    return [
        "TenantScopedAdmin.get_paginator: count capped at (page + 10) × 50 rows",
        "date_hierarchy removed from ContentBlockAdmin, ProjectAdmin, AuditLogAdmin "
        "(a DateFieldListFilter on the same field instead: no query)",
        "ProjectAdmin project_type, AuditLogAdmin action/resource_type filters: values "
        "of the latest 1,000 rows instead of SELECT DISTINCT over all",
        "AuditLogAdmin search: a UUID by equality on user_id/resource_id, other text "
        "in action only",
        *(f"index {name}" for name, _ in PROPOSED_INDEXES),
    ]
