"""List filters whose choices are the company's rows and values only.

Registered for every relation (reverse ones included) and for every column that would
fall through to Django's AllValuesFieldListFilter, in every admin: no ``list_filter``
can forget them.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import reverse_field_path
from django.db import models

from config import cache_keys, labels
from tenants.admin_base.scoping import is_platform_admin, scope_related


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
    company's rows are read, at most every few minutes (``cache_keys.LIST_FILTER_VALUES``):
    on a big table a SELECT DISTINCT on every page view costs more than the page itself."""

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
        choices = self.lookup_choices[: self.max_values]
        self.lookup_choices = cache_keys.LIST_FILTER_VALUES.get_or_set(
            lambda: list(choices), model=model._meta.label, field=field_path, company=company
        )

    def choices(self, changelist):
        # A column of codes (``section_type``) offers their labels.
        coded = labels.is_coded(self.field.name)
        for choice in super().choices(changelist):
            if coded and choice.get("display") not in (None, self.empty_value_display):
                display = choice["display"]
                if display in self.lookup_choices:
                    choice = {**choice, "display": labels.label(self.field.name, display)}
            yield choice


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
