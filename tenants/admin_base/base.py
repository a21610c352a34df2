"""The bases every ModelAdmin and inline of the project derives from."""

from __future__ import annotations

from django.contrib import admin

from audit.admin_hooks import AuditedAdminMixin
from tenants.admin_base.changelist import FastChangeListMixin
from tenants.admin_base.downloads import DownloadMixin
from tenants.admin_base.formsets import TenantInlineFormSet
from tenants.admin_base.scoping import TenantScopedMixin, is_platform_admin


class PlatformColumnsMixin:
    """What a platform superuser sees in addition: the company of each row, and a
    filter by company."""

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if is_platform_admin(request.user) and self._has_company() and "company" not in columns:
            columns.append("company")
        return columns

    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))
        if is_platform_admin(request.user) and self._has_company() and "company" not in filters:
            filters.insert(0, "company")
        return filters

    def get_list_select_related(self, request):
        related = super().get_list_select_related(request)
        if is_platform_admin(request.user) and self._has_company():
            if related is True:
                return True
            return [*(related or []), "company"]
        return related


class TenantScopedAdmin(
    AuditedAdminMixin,
    TenantScopedMixin,
    PlatformColumnsMixin,
    DownloadMixin,
    FastChangeListMixin,
    admin.ModelAdmin,
):
    """Base of every ModelAdmin of the project."""

    view_on_site = False

    def set_server_fields(self, request, obj, change: bool) -> None:
        """The company and the creator of a new object, from the request."""
        if not change:
            if not is_platform_admin(request.user) and self._has_company():
                obj.company_id = request.user.company_id
            if self.creator_field:
                setattr(obj, self.creator_field, request.user)

    def save_model(self, request, obj, form, change):
        self.set_server_fields(request, obj, change)
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        creator = getattr(formset, "creator_field", None)
        for inline_form in formset.extra_forms:
            if creator:
                setattr(inline_form.instance, creator, request.user)
            if hasattr(inline_form.instance, "company_id") and not is_platform_admin(request.user):
                inline_form.instance.company_id = request.user.company_id
        super().save_formset(request, form, formset, change)


class TenantScopedInline(TenantScopedMixin):
    """Mixin for inlines: ``class SectionInline(TenantScopedInline, admin.TabularInline)``."""

    extra = 0
    show_change_link = True
    formset = TenantInlineFormSet

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.creator_field = self.creator_field
        return formset
