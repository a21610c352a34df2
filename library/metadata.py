"""The metadata each type of content block must carry, and how it is checked.

Metadata stays free-form JSON (other programs read it and users add their own keys):
only the keys listed here are checked and normalised; unknown keys are kept as they
are. ``valid_until`` (an ISO date) marks content that expires — certifications, but
also a CV's habilitations or an equipment's inspection — and drives the expiry list
column and filter.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from library.choices import BlockType

EXPIRY_KEY = "valid_until"


@dataclass(frozen=True)
class Key:
    name: str
    kind: str  # "text", "int", "number", "date", "texts"
    required: bool = True
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None


SCHEMAS: dict[str, tuple[Key, ...]] = {
    BlockType.COMPANY_PROFILE: (
        Key("siret", "text", required=False, pattern=r"^\d{14}$"),
        Key("headcount", "int", required=False, minimum=0),
        Key("revenue", "number", required=False, minimum=0),
    ),
    BlockType.PERSON_CV: (
        Key("name", "text"),
        Key("role", "text"),
        Key("years_experience", "int", minimum=0, maximum=70),
        Key("qualifications", "texts"),
        Key(EXPIRY_KEY, "date", required=False),
    ),
    BlockType.EQUIPMENT: (
        Key("make", "text"),
        Key("model", "text"),
        Key("quantity", "int", minimum=1),
        Key(EXPIRY_KEY, "date", required=False),
    ),
    BlockType.PROCEDURE: (
        Key("reference", "text"),
        Key("revision", "text", required=False),
        Key(EXPIRY_KEY, "date", required=False),
    ),
    BlockType.CERTIFICATION: (
        Key("issuer", "text"),
        Key("number", "text"),
        Key(EXPIRY_KEY, "date"),
    ),
    BlockType.METHODOLOGY_TEMPLATE: (Key("placeholders", "texts", required=False),),
    BlockType.PAST_PROJECT_REFERENCE: (
        Key("client", "text"),
        Key("year", "int", minimum=1900, maximum=2100),
        Key("amount", "number", minimum=0),
    ),
}

_LABELS = {
    "siret": _("SIRET"),
    "headcount": _("headcount"),
    "revenue": _("revenue"),
    "name": _("name"),
    "role": _("role"),
    "years_experience": _("years of experience"),
    "qualifications": _("qualifications"),
    "make": _("make"),
    "model": _("model"),
    "quantity": _("quantity"),
    "reference": _("reference"),
    "revision": _("revision"),
    "issuer": _("issuer"),
    "number": _("number"),
    EXPIRY_KEY: _("valid until"),
    "placeholders": _("placeholders"),
    "client": _("client"),
    "year": _("year"),
    "amount": _("amount"),
}


def _coerce(key: Key, value: Any) -> Any:
    if key.kind == "text":
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValueError(_("must be text"))
        value = str(value).strip()
        if not value:
            raise ValueError(_("must not be empty"))
        if key.pattern and not re.match(key.pattern, value):
            raise ValueError(_("is not in the expected format"))
        return value
    if key.kind in ("int", "number"):
        if isinstance(value, bool):
            raise ValueError(_("must be a number"))
        if isinstance(value, str):
            value = value.strip().replace("\u202f", "").replace(" ", "").replace(",", ".")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(_("must be a number")) from None
        if key.kind == "int":
            if number != int(number):
                raise ValueError(_("must be a whole number"))
            number = int(number)
        if key.minimum is not None and number < key.minimum:
            raise ValueError(_("must be at least %(min)s") % {"min": _fmt(key.minimum)})
        if key.maximum is not None and number > key.maximum:
            raise ValueError(_("must be at most %(max)s") % {"max": _fmt(key.maximum)})
        return number
    if key.kind == "date":
        if isinstance(value, str):
            text = value.strip()
            for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
                try:
                    return datetime.datetime.strptime(text, pattern).date().isoformat()
                except ValueError:
                    continue
        raise ValueError(_("must be a date (YYYY-MM-DD or DD/MM/YYYY)"))
    if key.kind == "texts":
        if isinstance(value, str):
            value = [part for part in re.split(r"[;\n]", value)]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(_("must be a list of texts"))
        cleaned = [v.strip() for v in value if v.strip()]
        return cleaned
    raise AssertionError(key.kind)


def _fmt(number: float) -> str:
    return str(int(number)) if number == int(number) else str(number)


def clean_metadata(block_type: str, metadata: Any) -> dict[str, Any]:
    """The metadata with the type's keys checked and normalised; raises a
    ValidationError naming every wrong key at once."""
    if metadata in (None, ""):
        metadata = {}
    if not isinstance(metadata, dict):
        raise ValidationError(_("Metadata must be a JSON object ({…})."), code="not_object")
    cleaned = dict(metadata)
    errors = []
    for key in SCHEMAS.get(block_type, ()):
        label = _LABELS.get(key.name, key.name)
        value = metadata.get(key.name)
        if value in (None, "", []):
            if key.required:
                errors.append(
                    ValidationError(
                        _("“%(key)s” (%(label)s) is required for this type."),
                        code="missing_key",
                        params={"key": key.name, "label": label},
                    )
                )
            continue
        try:
            cleaned[key.name] = _coerce(key, value)
        except ValueError as exc:
            errors.append(
                ValidationError(
                    _("“%(key)s” (%(label)s) %(problem)s."),
                    code="invalid",
                    params={"key": key.name, "label": label, "problem": exc},
                )
            )
    if errors:
        raise ValidationError(errors)
    return cleaned


def expiry_date(metadata: Any) -> datetime.date | None:
    value = (metadata or {}).get(EXPIRY_KEY) if isinstance(metadata, dict) else None
    try:
        return datetime.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


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
