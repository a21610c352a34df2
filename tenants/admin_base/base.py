"""The bases every ModelAdmin and inline of the project derives from."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.text import capfirst
from django.utils.translation import gettext as _

import tenants.admin_base.grammar as grammar
from audit.admin_hooks import AuditedAdminMixin
from config import labels
from tenants.admin_base.changelist import FastChangeListMixin
from tenants.admin_base.downloads import DownloadMixin
from tenants.admin_base.formsets import TenantInlineFormSet
from tenants.admin_base.permissions import PermissionLabelsMixin
from tenants.admin_base.scoping import TenantScopedMixin, is_platform_admin, scope_queryset


def _has_field(model, name: str) -> bool:
    try:
        model._meta.get_field(name)
    except Exception:
        return False
    return True


def readable_value(field, value) -> str:
    """A form field's value as text: choice labels, yes/no, lists joined."""
    shown = labels.plain(value, getattr(field, "choices", None))
    if shown is not None:
        return shown
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def coded_column(name: str, model):
    """A changelist column showing the label of the code the field holds."""
    field = model._meta.get_field(name)

    @admin.display(description=field.verbose_name, ordering=name)
    def column(obj):
        return labels.label(name, getattr(obj, name))

    column.__name__ = name
    return column


class FrenchTitlesMixin:
    """Titles, the add button and the "cannot delete" title with the article the
    model's French name takes (``grammar``): "Modification de l’entreprise",
    "Ajouter un utilisateur"."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id is None:
            title = grammar.add_title(self.model)
        elif self.has_change_permission(request):
            title = grammar.change_title(self.model)
        else:
            title = grammar.view_title(self.model)
        return super().changeform_view(
            request, object_id, form_url, {"title": title, **(extra_context or {})}
        )

    def changelist_view(self, request, extra_context=None):
        from django.contrib.admin.options import IS_POPUP_VAR

        if IS_POPUP_VAR in request.GET:
            title = grammar.choose_title(self.model)
        else:
            title = capfirst(str(self.opts.verbose_name_plural))
        context = {"title": title, "add_label": grammar.add_button(self.model)}
        return super().changelist_view(request, {**context, **(extra_context or {})})

    def render_delete_form(self, request, context):
        if context.get("perms_lacking") or context.get("protected"):
            context["title"] = grammar.phrase(self.model, "Cannot delete %(name)s")
        return super().render_delete_form(request, context)


class PlatformColumnsMixin:
    """What a platform superuser sees in addition: the company of each row, and a
    filter by company."""

    def get_list_display(self, request):
        columns = [
            coded_column(c, self.model)
            if isinstance(c, str) and labels.is_coded(c) and _has_field(self.model, c)
            else c
            for c in super().get_list_display(request)
        ]
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
    FrenchTitlesMixin,
    PermissionLabelsMixin,
    AuditedAdminMixin,
    TenantScopedMixin,
    PlatformColumnsMixin,
    DownloadMixin,
    FastChangeListMixin,
    admin.ModelAdmin,
):
    """Base of every ModelAdmin of the project."""

    view_on_site = False
    #: The most entries an object's history page shows (the audit log has them all).
    history_limit = 100

    def missing_object_response(self, request, object_id) -> HttpResponseRedirect:
        """What every view of one object answers for an id it cannot find, another
        company's included (``get_object`` is scoped): back to the index with Django's
        own message, as its change page does."""
        message = _("%(name)s with ID “%(key)s” doesn’t exist. Perhaps it was deleted?")
        self.message_user(
            request,
            message % {"name": self.opts.verbose_name, "key": object_id},
            messages.WARNING,
        )
        return HttpResponseRedirect(reverse("admin:index", current_app=self.admin_site.name))

    def history_view(self, request, object_id, extra_context=None):
        """The object's history from the audit trail: the same sentences and changes
        as the audit log, for whoever may view the object."""
        from audit import presentation
        from audit import services as audit
        from audit.models import AuditLog

        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self.missing_object_response(request, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        entries = scope_queryset(
            request,
            AuditLog.objects.filter(
                resource_type=audit.resource_type(self.model), resource_id=obj.pk
            ),
        )
        entries = list(entries.order_by("-timestamp")[: self.history_limit + 1])
        truncated = len(entries) > self.history_limit
        entries = entries[: self.history_limit]
        presentation.describe(entries, request)
        for entry in entries:
            entry.when = presentation.local(entry.timestamp)
            entry.change_rows = presentation.change_rows(entry, request)
            entry.value_rows = presentation.value_rows(entry, request)
        trail_url = None
        if request.user.has_perm("audit.view_auditlog"):
            trail_url = (
                reverse("admin:audit_auditlog_changelist") + "?" + urlencode({"q": str(obj.pk)})
            )
        context = {
            **self.admin_site.each_context(request),
            "title": _("History: %(object)s") % {"object": obj},
            "subtitle": None,
            "entries": entries,
            "truncated": truncated,
            "trail_url": trail_url,
            "module_name": capfirst(str(self.opts.verbose_name_plural)),
            "object": obj,
            "opts": self.opts,
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/audit/object_history.html", context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if not self._view_only(request, obj):
            return form
        model_fields = {f.name for f in self.model._meta.get_fields()}
        model_fields |= {getattr(f, "attname", f.name) for f in self.model._meta.get_fields()}

        class ReadableForm(form):
            """A read-only page shows the form's own fields (facts kept in JSON…)
            by their value as a person reads it, not ``None`` or a code."""

            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                for name, field in self.fields.items():
                    if name not in model_fields:
                        value = self.get_initial_for_field(field, name)
                        self.instance.__dict__[name] = readable_value(field, value)
                for name in labels.CODED_FIELDS:
                    if name in self.instance.__dict__:  # never saved: the page is read-only
                        self.instance.__dict__[name] = labels.label(
                            name, getattr(self.instance, name)
                        )

        return ReadableForm

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
