"""Free-form facts as rows of (name, value) instead of a JSON text area.

``KeyValueField`` edits a JSON object of scalar values (a library file's metadata, a
section template's placeholders, a block's "other facts"): one row per key, a blank
row to add one, a row emptied to remove it. A value whose text is unchanged keeps its
JSON type (a number stays a number); lists and objects, which a row cannot show, are
kept as they are and listed read-only.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


def is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def display_value(value: Any) -> str:
    """A stored scalar as its row shows it."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int):
        return str(value)  # a year, a count: no thousands separator to edit around
    if isinstance(value, float):
        return repr(value).replace(".", ",")
    return "" if value is None else str(value)


class KeyValueWidget(forms.Widget):
    template_name = "library/widgets/key_value.html"
    blank_rows = 1

    class Media:
        js = ("library/facts.js",)
        css = {"all": ("library/facts.css",)}

    def __init__(self, *, key_label=None, value_label=None, attrs=None):
        super().__init__(attrs)
        self.key_label = key_label or gettext_lazy("name")
        self.value_label = value_label or gettext_lazy("value")

    def format_value(self, value):
        if isinstance(value, list):  # the rows of a bound form
            return value
        if isinstance(value, str):
            try:
                value = json.loads(value or "{}")
            except ValueError:
                value = {}
        if not isinstance(value, dict):
            return []
        return [(str(k), display_value(v)) for k, v in value.items() if is_scalar(v)]

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        rows = self.format_value(value)
        context["widget"].update(
            {
                "rows": [*rows, *[("", "")] * self.blank_rows],
                "key_label": self.key_label,
                "value_label": self.value_label,
            }
        )
        return context

    def value_from_datadict(self, data, files, name):
        keys = data.getlist(f"{name}-key") if hasattr(data, "getlist") else data.get(f"{name}-key")
        values = (
            data.getlist(f"{name}-value") if hasattr(data, "getlist") else data.get(f"{name}-value")
        )
        keys = keys if isinstance(keys, list) else [keys] if keys is not None else []
        values = values if isinstance(values, list) else [values] if values is not None else []
        values += [""] * (len(keys) - len(values))
        return [(str(k or ""), str(v or "")) for k, v in zip(keys, values, strict=False)]

    def value_omitted_from_data(self, data, files, name):
        return f"{name}-key" not in data

    def id_for_label(self, id_):
        return f"{id_}_0_key" if id_ else id_


class KeyValueField(forms.Field):
    """A JSON object of scalar values, edited as rows (see the module docstring).

    ``previous`` (the stored object, set by the form) keeps the JSON type of unchanged
    values and the values a row cannot show; ``reserved`` names keys the form edits
    elsewhere (a block's typed facts).
    """

    widget = KeyValueWidget

    def __init__(self, *, key_label=None, value_label=None, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", KeyValueWidget(key_label=key_label, value_label=value_label))
        super().__init__(**kwargs)
        self.previous: dict = {}
        self.reserved: set[str] = set()

    def prepare_value(self, value):
        return value

    def to_python(self, value):
        if isinstance(value, dict):
            return value
        rows = value or []
        out: dict[str, Any] = {}
        errors = []
        for raw_key, raw_value in rows:
            key, text = raw_key.strip(), raw_value.strip()
            if not key and not text:
                continue
            if "\x00" in key or "\x00" in text:
                errors.append(_("Null characters are not allowed."))
                continue
            if len(key) > 100:
                errors.append(_("A name has at most 100 characters."))
                continue
            if not key:
                errors.append(_("Name the value “%(value)s”.") % {"value": text})
                continue
            if key in out:
                errors.append(_("“%(key)s” is named twice.") % {"key": key})
                continue
            if key in self.reserved:
                errors.append(
                    _("“%(key)s” is a field of the form above: fill it there.") % {"key": key}
                )
                continue
            old = self.previous.get(key)
            out[key] = (
                old if is_scalar(old) and old is not None and display_value(old) == text else text
            )
        if errors:
            raise forms.ValidationError(errors, code="invalid")
        # Lists and objects were not shown as rows: they stay.
        for key, old in self.previous.items():
            if not is_scalar(old) and key not in out and key not in self.reserved:
                out[key] = old
        return out

    def kept(self) -> list[tuple[str, str]]:
        """The values no row shows, as text (for a read-only list)."""
        return [
            (key, json.dumps(value, ensure_ascii=False, default=str))
            for key, value in self.previous.items()
            if not is_scalar(value) and key not in self.reserved
        ]
