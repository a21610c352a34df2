"""Labels of the codes stored in free-text columns (``section_type``: "moyens_humains"),
so that a page shows "Moyens humains" where the column holds the code.

The codes come from the RC analysis and the section templates; known ones have a
label here, any other is shown with its underscores and dashes as spaces.
"""

from __future__ import annotations

import re

from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

SECTION_TYPES = {
    "presentation_entreprise": _("Company presentation"),
    "methodologie": _("Methodology"),
    "moyens_humains": _("Human resources"),
    "moyens_materiels": _("Equipment and plant"),
    "planning": _("Schedule"),
    "environnement": _("Environment"),
    "qualite": _("Quality"),
    "securite": _("Health and safety"),
    "references": _("References"),
}

#: Columns holding codes, by field name, with the labels of the known codes.
CODED_FIELDS: dict[str, dict] = {"section_type": SECTION_TYPES}

_CODE = re.compile(r"[a-z0-9]+(?:[_-][a-z0-9]+)+")


def label(field_name: str, value) -> str:
    """The label of ``value`` stored in the column ``field_name``."""
    if value in (None, ""):
        return "—"
    labels = CODED_FIELDS.get(field_name, {})
    if value in labels:
        return str(labels[value])
    text = str(value)
    if _CODE.fullmatch(text):
        return capfirst(re.sub(r"[_-]+", " ", text))
    return text


def is_coded(field_name: str) -> bool:
    return field_name in CODED_FIELDS


def plain(value, choices=None) -> str | None:
    """How a page shows a value whatever its field: "—" when empty, yes or no, the
    label of a choice (or of each, for a list). None for any other value, which its
    field formats (a date, a related row…)."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if choices:
        names = {}
        for key, name in choices:
            if isinstance(name, list | tuple):  # a group of choices
                names.update({str(k): str(v) for k, v in name})
            else:
                names[str(key)] = str(name)
        if isinstance(value, list | tuple):
            return ", ".join(names.get(str(v), str(v)) for v in value)
        return names.get(str(value), str(value))
    return None
