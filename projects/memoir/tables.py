"""The fact tables of a memoir, built by code from the typed facts of content blocks
(``library.facts``) — never written by a model: moyens humains (CVs), moyens matériels
(equipment), certifications (valid ones only) and references (reference blocks and the
approved past projects of ``past_projects``: name, client, year, and the amount and lot
of their facts when given).

A table is kept in a section's text as a Markdown pipe table under a ``####`` heading,
so that what the reviewer reads is what the Word export renders.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from library import facts
from library.choices import BlockType

#: The order of the tables in a section.
TABLE_TYPES = (
    BlockType.PERSON_CV,
    BlockType.EQUIPMENT,
    BlockType.CERTIFICATION,
    BlockType.PAST_PROJECT_REFERENCE,
)


@dataclass
class Table:
    kind: str
    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)

    def markdown(self) -> str:
        def cell(value: str) -> str:
            return str(value).replace("|", "/").replace("\n", " ").strip() or "—"

        lines = [f"#### {self.title}", "", "| " + " | ".join(map(cell, self.headers)) + " |"]
        lines.append("|" + "|".join("---" for _header in self.headers) + "|")
        lines += ["| " + " | ".join(map(cell, row)) + " |" for row in self.rows]
        return "\n".join(lines)


def _date(value: datetime.date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "—"


def _choice(choices, value) -> str:
    return str(choices(value).label) if value in choices.values else (value or "")


def valid_qualifications(cv: facts.CV, on: datetime.date) -> list[facts.Qualification]:
    return [q for q in cv.qualifications if q.expires_on is None or q.expires_on >= on]


def valid_certification(cert: facts.Certification, on: datetime.date) -> bool:
    return cert.valid_until is not None and cert.valid_until >= on


def _people(blocks, on) -> Table:
    table = Table(
        BlockType.PERSON_CV,
        _("Human resources (staff)"),
        [_("Name"), _("Role"), _("Experience"), _("Valid qualifications")],
    )
    for block in blocks:
        cv = facts.read(block)
        years = (
            _("%(years)d years") % {"years": cv.years_experience}
            if cv.years_experience is not None
            else ""
        )
        quals = ", ".join(q.name() for q in valid_qualifications(cv, on))
        table.rows.append([cv.name or block.title, cv.role or "", years, quals])
    return table


def _equipment(blocks, on) -> Table:
    table = Table(
        BlockType.EQUIPMENT,
        _("Equipment resources"),
        [_("Equipment"), _("Quantity"), _("Capacity"), _("Inspection valid until")],
    )
    for block in blocks:
        item = facts.read(block)
        due = [i for i in item.inspections if i.mandatory and i.next_on]
        if due:
            first = min(due, key=lambda i: i.next_on)
            inspection = f"{first.name()} : {_date(first.next_on)}"
            if first.next_on < on:
                inspection += " " + _("(expired)")
        else:
            inspection = ""
        table.rows.append(
            [
                item.designation or block.title,
                str(item.quantity or 1),
                item.capacity or "",
                inspection,
            ]
        )
    return table


def _certifications(blocks, on) -> Table:
    table = Table(
        BlockType.CERTIFICATION,
        _("Certifications"),
        [_("Certification"), _("Number"), _("Certifying body"), _("Valid until")],
    )
    for block in blocks:
        cert = facts.read(block)
        if not valid_certification(cert, on):
            continue  # an expired certification is never claimed
        table.rows.append(
            [
                _choice(facts.CertificationScheme, cert.scheme),
                cert.number or "",
                cert.body or "",
                _date(cert.valid_until),
            ]
        )
    return table


def _amount(value) -> str:
    if value is None:
        return ""
    return f"{number_format(round(value), force_grouping=True)} € HT"


def _number(value) -> float | None:
    """An amount of a past project's facts: a JSON number (or a numeric string)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.replace("\u202f", "").replace(" ", "").replace(",", "."))
        except ValueError:
            return None
    return None


def _references(blocks, on, past_projects=()) -> Table:
    table = Table(
        BlockType.PAST_PROJECT_REFERENCE,
        _("References"),
        [_("Operation"), _("Client"), _("Year"), _("Amount"), _("Lot")],
    )
    rows = []
    for block in blocks:
        ref = facts.read(block)
        rows.append(
            (
                -(ref.year or 0),
                [
                    block.title,
                    ref.client or "",
                    str(ref.year or ""),
                    _amount(ref.amount),
                    ref.lot or "",
                ],
            )
        )
    for past in past_projects:
        metadata = past.metadata if isinstance(past.metadata, dict) else {}
        lot = metadata.get("lot")
        rows.append(
            (
                -(past.year or 0),
                [
                    past.name,
                    past.client or "",
                    str(past.year or ""),
                    _amount(_number(metadata.get("amount"))),
                    str(lot) if lot not in (None, "") else "",
                ],
            )
        )
    table.rows = [row for _key, row in sorted(rows, key=lambda r: r[0])]
    return table


BUILDERS = {
    BlockType.PERSON_CV: _people,
    BlockType.EQUIPMENT: _equipment,
    BlockType.CERTIFICATION: _certifications,
    BlockType.PAST_PROJECT_REFERENCE: _references,
}


def tables_for(blocks, on: datetime.date, types=TABLE_TYPES, past_projects=()) -> list[Table]:
    """The fact tables of ``blocks`` and of the approved ``past_projects`` (in the
    references table), empty tables left out, in ``TABLE_TYPES`` order."""
    found = []
    for block_type in types:
        of_type = [b for b in blocks if b.type == block_type]
        if block_type == BlockType.PAST_PROJECT_REFERENCE and past_projects:
            table = _references(of_type, on, past_projects)
        elif not of_type:
            continue
        else:
            table = BUILDERS[block_type](of_type, on)
        if table.rows:
            found.append(table)
    return found
