"""Scoping the admin to the staff member's company: querysets, relation choices and
the fields the server sets (never read from a form)."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ImproperlyConfigured
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models.expressions import BaseExpression, Value

from config.forms import StrictJSONFormField
from tenants.admin_base.widgets import (
    SafeAutocompleteSelect,
    SafeAutocompleteSelectMultiple,
    ScopedRawIdWidget,
)
from tenants.managers import TenantQuerySet


def database_default(db_field: models.Field):
    """The value a field's ``db_default`` gives a new row, when it is a constant (a
    function such as ``Now()`` gives None: the form shows nothing)."""
    expression = getattr(db_field, "db_default", models.NOT_PROVIDED)
    if isinstance(expression, Value):
        value = expression.value
        return value() if callable(value) else value
    return None


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


def company_of(request, obj=None):
    """The company a request acts for: the member's own, or, for a platform superuser,
    the company of the object at hand (None when there is none yet)."""
    if not is_platform_admin(request.user):
        return request.user.company_id
    return getattr(obj, "company_id", None)


def companies_of(request, queryset: TenantQuerySet) -> list:
    """The companies whose rows ``queryset`` (already scoped to the request) holds, for
    calling a company-taking service once per company: the member's own company, or
    each company of a platform superuser's selection."""
    if not is_platform_admin(request.user):
        return [request.user.company_id]
    return list(queryset.order_by().values_list(queryset.company_path, flat=True).distinct())


class TenantScopedMixin:
    """What ModelAdmins and inlines share: scoped querysets and relation choices, and
    the company and creator fields set from the request."""

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

    #: The longest item of a list field (tags, techniques…): a GIN index entry holds
    #: at most about 2,700 bytes, which a longer item would make PostgreSQL refuse.
    array_item_max_length = 200
    #: Per field, where items are longer by nature (``{"photos": 2000}``).
    array_item_max_lengths: dict[str, int] = {}

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.JSONField):
            kwargs.setdefault("form_class", StrictJSONFormField)
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None and isinstance(formfield.initial, BaseExpression):
            # A field with only a database default: Django puts the expression itself
            # in the form ("<DatabaseDefault object at 0x…>"); show its value.
            formfield.initial = database_default(db_field)
        if (
            isinstance(db_field, ArrayField)
            and isinstance(db_field.base_field, models.CharField | models.TextField)
            and formfield is not None
        ):
            limit = self.array_item_max_lengths.get(db_field.name, self.array_item_max_length)
            formfield.base_field.max_length = limit
            formfield.base_field.validators.append(MaxLengthValidator(limit))
        return formfield

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        queryset = self._scoped_choices(db_field, request, kwargs)
        kwargs["queryset"] = queryset
        if db_field.name in self.raw_id_fields:
            kwargs["widget"] = ScopedRawIdWidget(
                db_field.remote_field, self.admin_site, queryset, using=kwargs.get("using")
            )
        elif db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs["queryset"] = self._scoped_choices(db_field, request, kwargs)
        if db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelectMultiple(
                db_field, self.admin_site, using=kwargs.get("using")
            )
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
        if obj is None:
            # A read-only field the database fills on insert (``created_at``…) has
            # no value yet on an add page: Django would show the expression's repr.
            hidden.update(self._database_filled_fields(request))
        return hidden

    def _database_filled_fields(self, request) -> set[str]:
        filled = set()
        for name in super().get_readonly_fields(request, None):
            try:
                field = self.model._meta.get_field(name)
            except Exception:
                continue
            if (
                getattr(field, "db_default", models.NOT_PROVIDED) is not models.NOT_PROVIDED
                and not field.has_default()
            ):
                filled.add(name)
        return filled

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        return exclude + [f for f in self._server_set_fields(request) if f not in exclude]

    def get_fields(self, request, obj=None):
        hidden = self._hidden_fields(request, obj)
        return [f for f in super().get_fields(request, obj) if f not in hidden]

    def _view_only(self, request, obj) -> bool:
        return obj is not None and not self.has_change_permission(request, obj)

    def get_fieldsets(self, request, obj=None):
        hidden = self._hidden_fields(request, obj)
        if self._view_only(request, obj):
            # Hidden inputs of the form (the version an editor opened…) mean nothing
            # to a reader.
            hidden |= {
                name
                for name, field in getattr(self.form, "base_fields", {}).items()
                if field.widget.is_hidden
            }
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
