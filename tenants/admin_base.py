"""The one mechanism that scopes the admin to the staff member's company.

Every ModelAdmin and inline of the project derives from ``TenantScopedAdmin`` /
``TenantScopedInline``. For a member of a company (anyone but a platform superuser):

* the changelist, change, delete and history pages, actions and the delete
  confirmation read through ``get_queryset``, filtered to the company by the model's
  ``TenantQuerySet.for_company`` — another company's id is simply not found, exactly
  like an id that does not exist;
* every foreign-key and many-to-many form field (and so its validation on POST),
  autocomplete answers, raw-id labels and ``list_filter`` choices only offer the
  company's rows;
* ``company`` and the creator field (``created_by`` / ``uploaded_by``) are set from the
  request, never read from the form.

Every save, deletion and inline change made through these admins is also written to
the audit trail (see ``audit.services``).
"""

from __future__ import annotations

import mimetypes
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import reverse_field_path
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db import models
from django.http import FileResponse, Http404
from django.urls import NoReverseMatch, path, reverse
from django.utils.functional import cached_property
from django.utils.text import Truncator

from audit import services as audit
from tenants.managers import TenantQuerySet


def is_platform_admin(user) -> bool:
    return bool(user.is_active and user.is_superuser)


def scope_queryset(request, queryset: models.QuerySet) -> models.QuerySet:
    """``queryset`` limited to the request user's company (unchanged for superusers)."""
    if is_platform_admin(request.user):
        return queryset
    if isinstance(queryset, TenantQuerySet):
        return queryset.for_company(request.user.company_id)
    raise ImproperlyConfigured(
        f"{queryset.model.__name__} has no TenantQuerySet: it cannot be shown to a "
        "company member without leaking other companies' rows."
    )


def scope_related(request, queryset: models.QuerySet) -> models.QuerySet:
    """Choices of a relation: tenant rows are scoped, Django's own tables (groups,
    permissions, content types) are left to the form that uses them."""
    if isinstance(queryset, TenantQuerySet):
        return scope_queryset(request, queryset)
    return queryset


class ScopedRawIdWidget(ForeignKeyRawIdWidget):
    """Raw-id widget whose label is looked up among the allowed rows only, so a
    foreign id typed into the box never shows that row's name."""

    def __init__(self, rel, admin_site, queryset, **kwargs):
        self.queryset = queryset
        super().__init__(rel, admin_site, **kwargs)

    def label_and_url_for_value(self, value):
        key = self.rel.get_related_field().name
        try:
            obj = self.queryset.get(**{key: value})
        except (ValueError, self.queryset.model.DoesNotExist, Exception):
            return "", ""
        try:
            url = reverse(
                f"{self.admin_site.name}:{obj._meta.app_label}_{obj._meta.model_name}_change",
                args=(obj.pk,),
            )
        except NoReverseMatch:
            url = ""
        return Truncator(obj).words(14), url


class TenantRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """Relation filter (foreign key, many-to-many, or the reverse of one) offering only
    the company's rows."""

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin)
        queryset = scope_related(request, field.remote_field.model._default_manager.all())
        if ordering:
            queryset = queryset.order_by(*ordering)
        return [(obj.pk, str(obj)) for obj in queryset]


class TenantAllValuesFieldListFilter(admin.AllValuesFieldListFilter):
    """Filter on the distinct values of a column. Django reads a column reached through
    a relation (``project__project_type``) from the whole related table; here only the
    company's rows are read."""

    #: Distinct values are read at most this often per company and column: on a big
    #: table a SELECT DISTINCT on every page view costs more than the page itself.
    cache_seconds = 300
    max_values = 200

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        parent_model, _ = reverse_field_path(model, field_path)
        if parent_model != model:
            queryset = scope_related(request, parent_model._default_manager.all())
            self.lookup_choices = (
                queryset.distinct().order_by(field.name).values_list(field.name, flat=True)
            )
        company = "all" if is_platform_admin(request.user) else request.user.company_id
        key = f"list-filter:{model._meta.label}:{field_path}:{company}"
        choices = self.lookup_choices[: self.max_values]
        self.lookup_choices = cache.get_or_set(key, lambda: list(choices), self.cache_seconds)


# Registered for every relation (reverse ones included) and for every column that would
# fall through to Django's AllValuesFieldListFilter, in every admin: no list_filter can
# forget them.
admin.FieldListFilter.register(
    lambda f: f.remote_field is not None,
    TenantRelatedFieldListFilter,
    take_priority=True,
)
admin.FieldListFilter.register(
    lambda f: (
        f.remote_field is None
        and not f.choices
        and not isinstance(f, models.BooleanField | models.DateField)
    ),
    TenantAllValuesFieldListFilter,
    take_priority=True,
)


class TenantScopedMixin:
    """What ModelAdmins and inlines share: scoped querysets and relation choices."""

    #: Field set to ``request.user`` when an object is created (``created_by``…).
    creator_field: str | None = None

    def get_queryset(self, request):
        return scope_queryset(request, super().get_queryset(request))

    def _scoped_choices(self, db_field, request, kwargs):
        """The field's choices as Django's admin would pick them (the queryset given,
        then the related admin's ordering, then the default manager), scoped."""
        queryset = kwargs.get("queryset")
        if queryset is None:
            queryset = self.get_field_queryset(None, db_field, request)
        if queryset is None:
            queryset = db_field.remote_field.model._default_manager.get_queryset()
        return scope_related(request, queryset)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        queryset = self._scoped_choices(db_field, request, kwargs)
        kwargs["queryset"] = queryset
        if db_field.name in self.raw_id_fields:
            kwargs["widget"] = ScopedRawIdWidget(
                db_field.remote_field, self.admin_site, queryset, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs["queryset"] = self._scoped_choices(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _has_company(self) -> bool:
        return any(f.name == "company" for f in self.model._meta.concrete_fields)

    def _server_set_fields(self, request) -> list[str]:
        """Fields never taken from a form."""
        fields = [self.creator_field] if self.creator_field else []
        if self._has_company() and not is_platform_admin(request.user):
            fields.append("company")
        return fields

    def _hidden_fields(self, request, obj) -> set[str]:
        """Server-set fields not shown: the creator is shown (read-only) once set."""
        hidden = set(self._server_set_fields(request))
        if obj is not None and self.creator_field:
            hidden.discard(self.creator_field)
        return hidden

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        return exclude + [f for f in self._server_set_fields(request) if f not in exclude]

    def get_fields(self, request, obj=None):
        hidden = self._hidden_fields(request, obj)
        return [f for f in super().get_fields(request, obj) if f not in hidden]

    def get_fieldsets(self, request, obj=None):
        hidden = self._hidden_fields(request, obj)
        fieldsets = super().get_fieldsets(request, obj)
        return [
            (name, {**opts, "fields": [f for f in opts["fields"] if f not in hidden]})
            for name, opts in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if self.creator_field and obj is not None and self.creator_field not in readonly:
            readonly.append(self.creator_field)
        # A platform superuser sets the company of what they add, but a row does not
        # move afterwards: what hangs off it (a block's files and history, a project's
        # sections, a memoir's chunks) would stay with the first company. A row without
        # one yet (a platform superuser being made a company's member) gets one.
        company_fixed = (
            obj is not None
            and self._has_company()
            and obj.company_id is not None
            and is_platform_admin(request.user)
        )
        if company_fixed and "company" not in readonly:
            readonly.append("company")
        return readonly


class CappedCountPaginator(Paginator):
    """Counts the matching rows up to ``cap`` only.

    A company with 100,000 rows would otherwise pay a full count of them on every
    page view; past the cap the list says "more than …" and the last pages are
    reached by narrowing the search or the filters.
    """

    cap = 10_000

    @cached_property
    def count(self) -> int:
        try:
            counted = self.object_list.order_by()[: self.cap + 1].count()
        except (AttributeError, TypeError):
            counted = len(self.object_list)
        self.capped = counted > self.cap
        return min(counted, self.cap)


class PageAnnotatingChangeList(ChangeList):
    """ChangeList that lets its admin decorate the current page's rows in bulk
    (``annotate_page``), e.g. resolve ids stored in arrays with one query per page
    instead of one per row."""

    def get_results(self, request):
        super().get_results(request)
        self.model_admin.annotate_page(request, self.result_list)


class TenantScopedAdmin(TenantScopedMixin, admin.ModelAdmin):
    """Base of every ModelAdmin of the project."""

    view_on_site = False
    list_per_page = 50
    # Counting every row of the table on each page view is what makes admin lists
    # slow on big tables; the filtered count is enough.
    show_full_result_count = False

    paginator = CappedCountPaginator

    #: A field holding a path in the storage makes the admin serve that file at
    #: ``<id>/download/``, to whoever may view the object and only to them: files
    #: have no public URL.
    download_path_field: str | None = None
    download_name_field = "filename"
    download_type_field: str | None = None

    def get_urls(self):
        urls = super().get_urls()
        if self.download_path_field:
            name = f"{self.opts.app_label}_{self.opts.model_name}_download"
            view = self.admin_site.admin_view(self.download_view)
            urls = [path("<path:object_id>/download/", view, name=name), *urls]
        return urls

    def download_view(self, request, object_id):
        obj = self.get_object(request, object_id)
        if obj is None or not self.has_view_permission(request, obj):
            raise Http404
        try:
            handle = default_storage.open(getattr(obj, self.download_path_field), "rb")
        except (FileNotFoundError, OSError) as exc:
            raise Http404 from exc
        filename = getattr(obj, self.download_name_field)
        content_type = (
            (getattr(obj, self.download_type_field) if self.download_type_field else None)
            or mimetypes.guess_type(filename)[0]
            or "application/octet-stream"
        )
        return FileResponse(
            handle, as_attachment=True, filename=filename, content_type=content_type
        )

    def get_changelist(self, request, **kwargs):
        return PageAnnotatingChangeList

    def annotate_page(self, request, rows) -> None:
        """Hook: decorate the rows of the changelist page (one query, not one per row)."""

    def get_search_results(self, request, queryset, search_term):
        """Models whose queryset offers ``matching(text)`` (French full-text search
        over an indexed document) use it instead of ``ILIKE '%…%'`` on each field,
        which reads every row of the company."""
        term = search_term.strip()
        if term and hasattr(queryset, "matching"):
            return queryset.matching(term), False
        return super().get_search_results(request, queryset, search_term)

    # --- what a superuser sees in addition --------------------------------------

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

    # --- server-set fields ------------------------------------------------------
    def save_model(self, request, obj, form, change):
        if not change:
            if not is_platform_admin(request.user) and self._has_company():
                obj.company_id = request.user.company_id
            if self.creator_field:
                setattr(obj, self.creator_field, request.user)
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        creator = getattr(formset, "creator_field", None)
        for inline_form in formset.extra_forms:
            if creator:
                setattr(inline_form.instance, creator, request.user)
            if hasattr(inline_form.instance, "company_id") and not is_platform_admin(request.user):
                inline_form.instance.company_id = request.user.company_id
        before = {
            f.instance.pk: {name: f.initial.get(name) for name in f.changed_data}
            for f in formset.initial_forms
        }
        # Django clears the pk of what it deletes: keep it, and the values, for the trail.
        doomed = {
            id(f.instance): (f.instance.pk, audit.snapshot(f.instance))
            for f in formset.deleted_forms
            if f.instance.pk is not None
        }
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            audit.record_object(
                "create", obj, request=request, changes=_created(audit.snapshot(obj))
            )
        for obj, changed in formset.changed_objects:
            after = audit.snapshot(obj)
            changes = {}
            for name in changed:
                field = obj._meta.get_field(name)
                attname = getattr(field, "attname", name)
                changes[attname] = {
                    "old": audit.to_json(before.get(obj.pk, {}).get(name)),
                    "new": after.get(attname),
                }
            audit.record_object("update", obj, request=request, changes=audit.redact(changes))
        for obj in formset.deleted_objects:
            pk, values = doomed.get(id(obj), (obj.pk, audit.snapshot(obj)))
            obj.pk = pk
            try:
                audit.record_object(
                    "delete", obj, request=request, extra={"values": audit.redact(values)}
                )
            finally:
                obj.pk = None

    # --- audit trail --------------------------------------------------------------
    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj._audit_before = audit.snapshot(obj)
        return obj

    def log_addition(self, request, obj, message):
        if not getattr(obj, "_audit_skip_create", False):
            audit.record_object(
                "create", obj, request=request, changes=_created(audit.snapshot(obj))
            )
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        before = getattr(obj, "_audit_before", None)
        if before is None:  # saved without going through get_object (list_editable)
            audit.record_object("update", obj, request=request, extra={"message": message})
            return super().log_change(request, obj, message)
        changes = audit.diff(before, audit.snapshot(obj))
        if changes:
            audit.record_object("update", obj, request=request, changes=changes)
            obj._audit_before = audit.snapshot(obj)
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        objects = list(queryset)
        audit.record_objects(
            "delete",
            objects,
            request=request,
            details_for=lambda obj: {"values": audit.redact(audit.snapshot(obj))},
        )
        return super().log_deletions(request, objects)


class TenantScopedInline(TenantScopedMixin):
    """Mixin for inlines: ``class SectionInline(TenantScopedInline, admin.TabularInline)``."""

    extra = 0
    show_change_link = True

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.creator_field = self.creator_field
        return formset


def _created(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return audit.redact(
        {k: {"old": None, "new": v} for k, v in values.items() if v not in (None, "", [], {})}
    )
