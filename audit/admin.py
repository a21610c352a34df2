from __future__ import annotations

import uuid

from django.contrib import admin
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audit.models import AuditLog
from tenants.admin_base import TenantScopedAdmin, is_platform_admin
from tenants.models import Company, User


@admin.register(AuditLog)
class AuditLogAdmin(TenantScopedAdmin):
    """The trail is read-only for everyone, superusers included."""

    list_display = (
        "timestamp",
        "action",
        "user_name",
        "resource_type",
        "resource_id",
        "ip_address",
    )
    list_filter = ("action", "resource_type")
    search_fields = ("action",)
    search_help_text = _(
        "An action (or its beginning, e.g. “project.”) or the id of a user or a resource."
    )
    ordering = ("-timestamp",)
    date_hierarchy = "timestamp"
    readonly_fields = (
        "timestamp",
        "action",
        "user_name",
        "company_name",
        "resource_type",
        "resource_id",
        "details",
        "ip_address",
        "user_agent",
    )
    fields = readonly_fields

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            value = uuid.UUID(term)
        except ValueError:
            return queryset.filter(action__startswith=term.lower()), False
        return queryset.filter(Q(resource_id=value) | Q(user_id=value)), False

    def get_list_display(self, request):
        columns = list(self.list_display)
        if is_platform_admin(request.user):
            columns.append("company_name")
        return columns

    def annotate_page(self, request, rows) -> None:
        users = dict(
            User.objects.filter(pk__in={r.user_id for r in rows if r.user_id}).values_list(
                "pk", "email"
            )
        )
        companies = {}
        if is_platform_admin(request.user):
            companies = dict(
                Company.objects.filter(
                    pk__in={r.company_id for r in rows if r.company_id}
                ).values_list("pk", "name")
            )
        for row in rows:
            row._user_name = users.get(row.user_id)
            row._company_name = companies.get(row.company_id)

    @admin.display(description=_("user"))
    def user_name(self, obj) -> str:
        if not hasattr(obj, "_user_name"):
            obj._user_name = (
                User.objects.filter(pk=obj.user_id).values_list("email", flat=True).first()
            )
        return obj._user_name or (str(obj.user_id) if obj.user_id else "—")

    @admin.display(description=_("company"))
    def company_name(self, obj) -> str:
        if not hasattr(obj, "_company_name"):
            obj._company_name = (
                Company.objects.filter(pk=obj.company_id).values_list("name", flat=True).first()
            )
        return obj._company_name or "—"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
