"""Inline formsets that answer another company's row id as they answer a missing one.

Django checks the hidden primary key of each inline row against every row of the
table, so posting another company's section id into a project's inline passed that
check (and said "changed successfully") where a random id was refused. Here the ids
accepted are the formset's own rows: those of the parent object, which the scoped
admin only shows to its company.
"""

from __future__ import annotations

from django.forms import ModelChoiceField
from django.forms.models import BaseInlineFormSet


class TenantInlineFormSet(BaseInlineFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        field = form.fields.get(self.model._meta.pk.name)
        if isinstance(field, ModelChoiceField):
            field.queryset = self.model._default_manager.filter(
                pk__in=self.get_queryset().order_by().values("pk")
            )
