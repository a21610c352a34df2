"""The typed facts of each type of content block, read from its ``metadata``.

``content_blocks.metadata`` is the contract other programs read (JSON, English keys,
ISO dates, JSON numbers). This module says what each block type keeps there, once:
one dataclass per type whose fields carry their label, kind and bounds
(``fact(...)``). The same description builds the admin forms
(``library.fact_forms``), checks metadata written by code
(``library.metadata.clean_metadata``) and gives typed access to it::

    from library import facts

    cv = facts.read(block)                      # facts.CV
    for q in cv.qualifications:                 # facts.Qualification
        q.kind, q.label, q.obtained_on, q.expires_on, q.mandatory
    facts.read(equipment_block).inspections     # [facts.Inspection]
    facts.read(cert_block).valid_until          # datetime.date
    ref = facts.read(reference_block)           # facts.Reference: client, amount, year, lot
    facts.validity(block.type, block.metadata)  # Validity(until, reason) or None

``validity()`` is the earliest expiry that matters for the block: a CV's mandatory
qualifications, an equipment item's next mandatory inspection, a certification's or a
procedure's ``valid_until``. ``ContentBlock.save()`` stores its date in the
``valid_until`` column, which the expiry filters and ``valid_on(date)`` query.

Keys not described here are kept as they are (users add their own "other facts").
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from library import parsing
from library.choices import BlockType

# --- describing a fact ------------------------------------------------------------------

#: The kinds of fact, and what each is stored as in the JSON:
#: text / longtext / choice / siret → str; int → int; number → int or float;
#: date → "YYYY-MM-DD"; bool → true/false; texts / identifiers → [str]; rows → [{…}].
KINDS = ("text", "longtext", "choice", "siret", "int", "number", "date", "bool", "texts")
KINDS += ("identifiers", "rows")


@dataclass(frozen=True)
class Spec:
    """How one fact is labelled, written and checked."""

    label: Promise | str
    kind: str = "text"
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: Any = None  # a TextChoices class, for kind "choice"
    help_text: Promise | str = ""
    row: type | None = None  # the dataclass of each row, for kind "rows"
    default: Any = None  # the value of a new row or block (a bool's initial state)


def fact(label, kind: str = "text", *, default: Any = None, **options) -> Any:
    """A dataclass field described by a ``Spec`` (lists default to empty)."""
    assert kind in KINDS, kind
    spec = Spec(label, kind, default=default, **options)
    if kind in ("texts", "identifiers", "rows"):
        return field(default_factory=list, metadata={"spec": spec})
    return field(default=default, metadata={"spec": spec})


def specs(cls) -> list[tuple[str, Spec]]:
    """``[(key, Spec)]`` of a facts dataclass, in form order."""
    return [(f.name, f.metadata["spec"]) for f in dataclasses.fields(cls)]


# --- choices ------------------------------------------------------------------------------


class QualificationKind(models.TextChoices):
    CACES = "caces", _("CACES")
    SST = "sst", _("SST (first aid at work)")
    ELECTRICAL = "electrical", _("Electrical clearance")
    AIPR = "aipr", _("AIPR (work near networks)")
    WORK_AT_HEIGHT = "work-at-height", _("Work at height")
    ASBESTOS = "asbestos", _("Asbestos (SS3/SS4)")
    SCAFFOLDING = "scaffolding", _("Scaffolding assembly")
    OTHER = "other", pgettext_lazy("kind", "Other")


class EquipmentCategory(models.TextChoices):
    LIFTING = "lifting", _("Lifting")
    EARTHMOVING = "earthmoving", _("Earthmoving")
    TRANSPORT = "transport", _("Transport")
    CONCRETE = "concrete", _("Concrete")
    FORMWORK = "formwork", _("Formwork")
    SCAFFOLDING = "scaffolding", _("Scaffolding")
    COMPACTION = "compaction", _("Compaction")
    SURVEYING = "surveying", _("Surveying and measuring")
    OTHER = "other", pgettext_lazy("kind", "Other")


class Ownership(models.TextChoices):
    OWNED = "owned", _("Owned")
    RENTED = "rented", _("Rented")


class InspectionKind(models.TextChoices):
    PERIODIC = "periodic", _("Periodic general inspection (VGP)")
    ROADWORTHINESS = "roadworthiness", _("Roadworthiness test")
    CALIBRATION = "calibration", _("Calibration")
    OTHER = "other", pgettext_lazy("kind", "Other")


class CertificationScheme(models.TextChoices):
    QUALIBAT = "qualibat", _("Qualibat")
    MASE = "mase", _("MASE")
    ISO_9001 = "iso-9001", _("ISO 9001")
    ISO_14001 = "iso-14001", _("ISO 14001")
    ISO_45001 = "iso-45001", _("ISO 45001")
    RGE = "rge", _("RGE")
    QUALIFELEC = "qualifelec", _("Qualifelec")
    OPQIBI = "opqibi", _("OPQIBI")
    OTHER = "other", pgettext_lazy("kind", "Other")


#: What a qualification's detail says when it already names its kind (accents folded).
QUALIFICATION_KEYWORDS = {
    QualificationKind.CACES: r"\bcaces\b",
    QualificationKind.SST: r"\bsst\b|sauveteur",
    QualificationKind.ELECTRICAL: r"habilitation|electri",
    QualificationKind.AIPR: r"\baipr\b",
    QualificationKind.WORK_AT_HEIGHT: r"hauteur|harnais",
    QualificationKind.ASBESTOS: r"amiante|\bss[34]\b",
    QualificationKind.SCAFFOLDING: r"echafaudage",
}


# --- the facts of each block type -------------------------------------------------------


@dataclass
class Validity:
    """Until when a block may be used, and which fact decides it."""

    until: datetime.date
    reason: str


@dataclass
class Qualification:
    """One qualification of a CV: a CACES category, the SST, an electrical clearance…"""

    kind: str = fact(_("qualification"), "choice", choices=QualificationKind, required=True)
    label: str | None = fact(
        _("detail"), help_text=_("Category, level or title: R482 cat. A, B1V-BR…")
    )
    obtained_on: datetime.date | None = fact(_("obtained on"), "date")
    expires_on: datetime.date | None = fact(_("expires on"), "date")
    mandatory: bool = fact(
        _("required"),
        "bool",
        default=True,
        help_text=_("Its expiry makes the CV expire."),
    )

    def name(self) -> str:
        """ "CACES R482 cat. A": the detail, after the kind unless it already says it."""
        kind = QualificationKind(self.kind).label if self.kind in QualificationKind.values else ""
        if not self.label:
            return str(kind)
        keyword = QUALIFICATION_KEYWORDS.get(self.kind)
        if self.kind == QualificationKind.OTHER or (
            keyword and re.search(keyword, parsing.fold(self.label))
        ):
            return self.label
        return f"{kind} {self.label}"


@dataclass
class CV:
    name: str | None = fact(_("full name"), required=True)
    role: str | None = fact(_("role"), required=True)
    years_experience: int | None = fact(_("years of experience"), "int", minimum=0, maximum=70)
    diplomas: list[str] = fact(_("diplomas"), "texts", help_text=_("One per line."))
    qualifications: list[Qualification] = fact(_("qualifications"), "rows", row=Qualification)

    def validity(self) -> Validity | None:
        dated = [q for q in self.qualifications if q.mandatory and q.expires_on]
        if not dated:
            return None
        first = min(dated, key=lambda q: q.expires_on)
        return Validity(first.expires_on, first.name())


@dataclass
class Inspection:
    """One inspection of an equipment item: its last date and the next one due."""

    kind: str = fact(_("inspection"), "choice", choices=InspectionKind, required=True)
    label: str | None = fact(_("detail"))
    last_on: datetime.date | None = fact(_("last done on"), "date")
    next_on: datetime.date | None = fact(_("next due on"), "date")
    mandatory: bool = fact(
        _("mandatory"), "bool", default=True, help_text=_("Its due date makes the item expire.")
    )

    def name(self) -> str:
        kind = InspectionKind(self.kind).label if self.kind in InspectionKind.values else ""
        return f"{kind} {self.label}" if self.label else str(kind)


@dataclass
class Equipment:
    designation: str | None = fact(_("designation"), required=True)
    category: str | None = fact(_("category"), "choice", choices=EquipmentCategory)
    make: str | None = fact(_("make"))
    model: str | None = fact(_("model"))
    quantity: int | None = fact(_("quantity"), "int", minimum=1, default=1)
    capacity: str | None = fact(_("capacity"), help_text=_("Load, volume or power: 10 t, 2 m³…"))
    ownership: str | None = fact(_("owned or rented"), "choice", choices=Ownership)
    inspections: list[Inspection] = fact(_("inspections"), "rows", row=Inspection)

    def validity(self) -> Validity | None:
        due = [i for i in self.inspections if i.mandatory and i.next_on]
        if not due:
            return None
        first = min(due, key=lambda i: i.next_on)
        return Validity(first.next_on, first.name())


@dataclass
class Certification:
    scheme: str | None = fact(_("scheme"), "choice", choices=CertificationScheme, required=True)
    number: str | None = fact(_("certificate number"), required=True)
    body: str | None = fact(_("certifying body"), required=True)
    issued_on: datetime.date | None = fact(_("issued on"), "date")
    valid_until: datetime.date | None = fact(_("valid until"), "date", required=True)
    scope: str | None = fact(_("scope"), "longtext")

    def validity(self) -> Validity | None:
        if self.valid_until is None:
            return None
        scheme = CertificationScheme(self.scheme).label if self.scheme else ""
        return Validity(self.valid_until, f"{scheme} {self.number or ''}".strip())


@dataclass
class Procedure:
    reference: str | None = fact(_("reference"), required=True)
    revision: str | None = fact(_("revision"))
    approved_on: datetime.date | None = fact(_("approved on"), "date")
    owner: str | None = fact(_("owner"))
    standards: list[str] = fact(_("standards"), "texts", help_text=_("One per line."))
    valid_until: datetime.date | None = fact(
        _("to be reviewed by"), "date", help_text=_("The procedure expires after this date.")
    )

    def validity(self) -> Validity | None:
        if self.valid_until is None:
            return None
        return Validity(self.valid_until, f"{self.reference} {self.revision or ''}".strip())


@dataclass
class Phase:
    name: str | None = fact(_("phase"), required=True)
    duration_weeks: float | None = fact(_("duration (weeks)"), "number", minimum=0)


@dataclass
class Methodology:
    placeholders: list[str] = fact(
        _("placeholders"),
        "identifiers",
        help_text=_("One per line, as written between braces in the text: nom_projet."),
    )
    phases: list[Phase] = fact(_("phases"), "rows", row=Phase)

    def validity(self) -> Validity | None:
        return None


@dataclass
class CompanyProfile:
    siret: str | None = fact(_("SIRET"), "siret", help_text=_("14 digits, spaces allowed."))
    legal_form: str | None = fact(_("legal form"), help_text=_("SAS, SARL, SA…"))
    naf_code: str | None = fact(_("NAF code"))
    founded: int | None = fact(_("year founded"), "int", minimum=1800, maximum=2100)
    headcount: int | None = fact(_("headcount"), "int", minimum=0)
    revenue: float | None = fact(_("revenue (€)"), "number", minimum=0)
    revenue_year: int | None = fact(_("revenue year"), "int", minimum=1900, maximum=2100)

    def validity(self) -> Validity | None:
        return None


@dataclass
class Reference:
    client: str | None = fact(_("client"), required=True)
    year: int | None = fact(_("year"), "int", minimum=1900, maximum=2100, required=True)
    amount: float | None = fact(_("amount (€ excl. VAT)"), "number", minimum=0, required=True)
    lot: str | None = fact(_("lot"))
    description: str | None = fact(_("description"), "longtext")

    def validity(self) -> Validity | None:
        return None


FACTS: dict[str, type] = {
    BlockType.COMPANY_PROFILE: CompanyProfile,
    BlockType.PERSON_CV: CV,
    BlockType.EQUIPMENT: Equipment,
    BlockType.PROCEDURE: Procedure,
    BlockType.CERTIFICATION: Certification,
    BlockType.METHODOLOGY_TEMPLATE: Methodology,
    BlockType.PAST_PROJECT_REFERENCE: Reference,
}


def facts_class(block_type: str) -> type:
    return FACTS[block_type]


def known_keys(block_type: str) -> set[str]:
    cls = FACTS.get(block_type)
    return {f.name for f in dataclasses.fields(cls)} if cls else set()


# --- reading and writing the JSON ---------------------------------------------------------


def _read_value(spec: Spec, value: Any) -> Any:
    """A stored value as its Python type; whatever cannot be read is None (reading
    never fails: ``clean_metadata`` is what refuses wrong metadata)."""
    if value in (None, ""):
        return [] if spec.kind in ("texts", "identifiers", "rows") else None
    try:
        if spec.kind == "date":
            return parsing.parse_date(value)
        if spec.kind == "int":
            number = parsing.parse_decimal(value)
            return int(number) if number == int(number) else None
        if spec.kind == "number":
            return parsing.json_number(parsing.parse_decimal(value))
        if spec.kind == "bool":
            return bool(value)
        if spec.kind in ("texts", "identifiers"):
            return [str(v) for v in value] if isinstance(value, list) else [str(value)]
        if spec.kind == "rows":
            return [from_dict(spec.row, row) for row in value if isinstance(row, dict)]
    except (ValueError, TypeError):
        return [] if spec.kind in ("texts", "identifiers", "rows") else None
    return str(value) if not isinstance(value, str) else value


def from_dict(cls, data: dict) -> Any:
    """A facts dataclass from a JSON object (unknown keys ignored)."""
    values = {}
    for key, spec in specs(cls):
        if key in data:
            value = _read_value(spec, data[key])
            if value is not None or spec.kind != "bool":
                values[key] = value
    return cls(**values)


def read(block_or_type, metadata: dict | None = None) -> Any:
    """The typed facts of a block (``read(block)``) or of a type and its metadata."""
    if metadata is None and hasattr(block_or_type, "metadata"):
        block_type, metadata = block_or_type.type, block_or_type.metadata
    else:
        block_type = block_or_type
    return from_dict(FACTS[block_type], metadata if isinstance(metadata, dict) else {})


def _write_value(spec: Spec, value: Any) -> Any:
    if spec.kind == "date":
        return value.isoformat() if value else None
    if spec.kind == "rows":
        return [to_dict(row) for row in value]
    return value


def to_dict(obj) -> dict[str, Any]:
    """The JSON object of a facts dataclass; empty optional values are left out."""
    out = {}
    for key, spec in specs(type(obj)):
        value = _write_value(spec, getattr(obj, key))
        if value in (None, "") or (value == [] and spec.kind != "rows"):
            continue
        out[key] = value
    return out


def validity(block_type: str, metadata: dict | None) -> Validity | None:
    """The earliest expiry that matters for a block of ``block_type``, or None."""
    if block_type not in FACTS:
        return None
    return read(block_type, metadata or {}).validity()


def valid_until(block_type: str, metadata: dict | None) -> datetime.date | None:
    found = validity(block_type, metadata)
    return found.until if found else None
