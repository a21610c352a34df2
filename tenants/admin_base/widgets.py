"""Widgets that must not reveal another company's rows."""

from __future__ import annotations

from django.contrib.admin.widgets import (
    AutocompleteSelect,
    AutocompleteSelectMultiple,
    ForeignKeyRawIdWidget,
)
from django.core.exceptions import ValidationError
from django.urls import NoReverseMatch, reverse
from django.utils.text import Truncator


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
        except (ValueError, ValidationError, self.queryset.model.DoesNotExist):
            return "", ""
        try:
            url = reverse(
                f"{self.admin_site.name}:{obj._meta.app_label}_{obj._meta.model_name}_change",
                args=(obj.pk,),
            )
        except NoReverseMatch:
            url = ""
        return Truncator(obj).words(14), url


class _ValidValuesOnly:
    """Autocomplete widgets re-rendering a refused form look the submitted values up;
    Django's query raises on a value that is not even of the key's type (a non-uuid
    string), which turned a plain form error into a 500. Such values show nothing."""

    def optgroups(self, name, value, attr=None):
        target = self.field.remote_field.model._meta.pk
        valid = []
        for item in value:
            try:
                target.to_python(item)
            except ValidationError:
                continue
            valid.append(item)
        return super().optgroups(name, valid, attr)


class SafeAutocompleteSelect(_ValidValuesOnly, AutocompleteSelect):
    pass


class SafeAutocompleteSelectMultiple(_ValidValuesOnly, AutocompleteSelectMultiple):
    pass
