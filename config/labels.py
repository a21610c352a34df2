"""Labels of the codes stored in free-text columns (``section_type``: "moyens_humains"),
so that a page shows "Moyens humains" where the column holds the code.

The codes come from the RC analysis and the section templates; known ones have a
label here, any other is shown with its underscores and dashes as spaces.
"""

from __future__ import annotations

import re

from django.utils.text import capfirst
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
