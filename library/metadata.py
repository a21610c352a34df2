"""Checking the metadata of a content block written by code, and tag normalisation.

The shape of each type's metadata is described once, in ``library.facts``; the admin
edits it through ``library.fact_forms``. ``clean_metadata`` checks metadata that code
writes (imports, fixtures, services) with the same fields as the forms, so both accept
the same inputs ("31/03/2027" or "2027-03-31", "4 200 000,50" or 4200000.5) and store
them the same way. Unknown keys are kept as they are.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from library import facts
from library.fact_forms import formfield, problems


def _clean_object(cls, data: dict, errors: list, where: str = "") -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, spec in facts.specs(cls):
        label = f"{where}{spec.label}"
        if spec.kind == "rows":
            rows = data.get(key) or []
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                errors.append(
                    ValidationError(
                        _("%(label)s: must be a list of rows."),
                        code="invalid",
                        params={"label": label},
                    )
                )
                continue
            values[key] = []
            for n, row in enumerate(rows, start=1):
                row_where = _("%(label)s, row %(n)d: ") % {"label": spec.label, "n": n}
                row_values = _clean_object(spec.row, row, errors, row_where)
                if len(row_values) == len(facts.specs(spec.row)):
                    obj = spec.row(**row_values)
                    for _key, message in problems(obj):
                        errors.append(ValidationError(f"{row_where}{message}", code="invalid"))
                    values[key].append(obj)
            continue
        if key not in data and spec.kind == "bool":
            values[key] = next(f.default for f in facts.dataclasses.fields(cls) if f.name == key)
            continue
        try:
            values[key] = formfield(spec).clean(data.get(key))
        except forms.ValidationError as exc:
            for message in exc.messages:
                errors.append(
                    ValidationError(
                        "%(label)s: %(message)s",
                        code="invalid",
                        params={"label": label, "message": message},
                    )
                )
    return values


def clean_metadata(block_type: str, metadata: Any) -> dict[str, Any]:
    """The metadata with the type's facts checked and normalised (unknown keys kept);
    raises a ValidationError naming every wrong fact at once."""
    if metadata in (None, ""):
        metadata = {}
    if not isinstance(metadata, dict):
        raise ValidationError(_("Metadata must be an object of named facts."), code="not_object")
    cls = facts.FACTS.get(block_type)
    if cls is None:
        return dict(metadata)
    errors: list[ValidationError] = []
    values = _clean_object(cls, metadata, errors)
    if errors:
        raise ValidationError(errors)
    obj = cls(**values)
    found = problems(obj)
    if found:
        raise ValidationError([ValidationError(message, code="invalid") for _k, message in found])
    known = facts.known_keys(block_type)
    cleaned = {key: value for key, value in metadata.items() if key not in known}
    cleaned.update(facts.to_dict(obj))
    return cleaned


def normalize_tags(tags: Any) -> list[str] | None:
    """Trimmed, lower-case, without duplicates, in their first order."""
    if tags is None:
        return None
    seen: dict[str, None] = {}
    for tag in tags:
        text = re.sub(r"\s+", " ", str(tag)).strip().lower()
        if text:
            seen.setdefault(text, None)
    return list(seen)
