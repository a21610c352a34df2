"""The award criteria tree: criteria → sub-criteria → elements, with each weight as
written, its unit, its share of the total and a stable id.

Shares: a criterion's share is its weight over the sum of the weights at its level
(the top level sums to the whole score). A sub-criterion's share is its parent's share
times its weight over the sum of its siblings' weights — which is what the RC means
whether it writes sub-weights on the global scale ("Valeur technique 60 : méthodologie
25, moyens 15, planning 10, environnement 10"), in % of the parent (50 % / 30 % /
20 %), as notes (/10, /6, /4) or "pour moitié". When the siblings sum to none of these
(their parent's weight, 100, the parent's stated scale) the tree carries a warning.
Elements ("éléments d'appréciation") have no weight and no share.

Ids: ``C1``, ``C2``… in the RC's order, ``C1.1`` for sub-criteria, ``C1.E1`` for
elements; a lot's own tree is prefixed with ``L<lot>.``. The matching and generation
steps key on these ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from projects.rc.text import fold

UNITS = ("%", "points")  # and "/N"
_NOTE_UNIT = re.compile(r"^/\d{1,3}$")

PRICE, TECHNICAL, OTHER = "price", "technical", "other"
CRITERION, SUBCRITERION, ELEMENT = "criterion", "subcriterion", "element"

_PRICE_NAMES = re.compile(
    r"\bprix\b|\bcouts?\b|valeur economique|offre (?:financiere|economique|de prix)|\bmontant\b"
    r"|coefficient|\btarifs?\b|bordereau|financiere?|\bdpgf\b|\bdqe\b|\bremise\b"
)
_TECHNICAL_NAMES = re.compile(
    r"techni|methodolog|qualite|moyens|memoire|organisation|planning|delai|environnement"
    r"|securite|references|savoir-faire|performance"
)


def valid_unit(unit: str | None) -> bool:
    return unit is None or unit in UNITS or bool(_NOTE_UNIT.match(unit))


def kind_of(name: str) -> str:
    folded = fold(name)
    if _PRICE_NAMES.search(folded) and "technique" not in folded:
        return PRICE
    if _TECHNICAL_NAMES.search(folded):
        return TECHNICAL
    return OTHER


@dataclass
class Criterion:
    name: str
    weight: float | int | None = None
    unit: str | None = None
    written: str = ""  # the weight as the RC writes it: "60 %", "note sur 10", "pour moitié"
    level: str = CRITERION
    rank: int | None = None  # "par ordre décroissant d'importance"
    share: float | None = None
    kind: str = OTHER
    source: dict | None = None
    subcriteria: list[Criterion] = field(default_factory=list)
    elements: list[Criterion] = field(default_factory=list)
    id: str = ""
    corrected: bool = False
    flag: str = ""  # what the reviewer should check

    @property
    def parent_id(self) -> str:
        """``C2`` for ``C2.1`` and ``C2.E1``; ``""`` for a criterion."""
        return self.id.rsplit(".", 1)[0] if self.level != CRITERION and "." in self.id else ""

    @property
    def share_percent(self) -> float | None:
        """The share in % for display (27.5 for 0.275)."""
        return None if self.share is None else round(self.share * 100, 2)

    def walk(self):
        yield self
        for child in self.subcriteria:
            yield from child.walk()
        yield from self.elements

    # --- JSON -------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """The stored shape (docs/rc_analysis.md)."""
        return {
            "id": self.id,
            "name": self.name,
            "level": self.level,
            "kind": self.kind,
            "weight": self.weight,
            "unit": self.unit,
            "written": self.written,
            "share": self.share,
            "rank": self.rank,
            "source": self.source,
            "corrected": self.corrected,
            "flag": self.flag,
            "subcriteria": [c.to_json() for c in self.subcriteria],
            "elements": [e.to_json() for e in self.elements],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Criterion:
        return cls(
            id=str(data.get("id") or ""),
            name=str(data.get("name") or ""),
            level=data.get("level") or CRITERION,
            kind=data.get("kind") or OTHER,
            weight=data.get("weight"),
            unit=data.get("unit"),
            written=data.get("written") or "",
            share=data.get("share"),
            rank=data.get("rank"),
            source=data.get("source"),
            corrected=bool(data.get("corrected")),
            flag=data.get("flag") or "",
            subcriteria=[cls.from_json(c) for c in data.get("subcriteria") or []],
            elements=[cls.from_json(e) for e in data.get("elements") or []],
        )

    def to_output(self) -> dict[str, Any]:
        """The shape ``analyse_rc`` prints."""
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "weight": self.weight,
            "unit": self.unit,
            "share": self.share,
            "subcriteria": [c.to_output() for c in self.subcriteria],
        }
        if self.elements:
            out["elements"] = [e.name for e in self.elements]
        return out


# --- shares ---------------------------------------------------------------------------------


def _close(a: float, b: float) -> bool:
    return abs(a - b) < 0.011


def _sum(values) -> float:
    return float(sum(values))


def normalise(criteria: list[Criterion], *, total: float | None = None) -> list[str]:
    """Compute every share in place; returns the warnings (weights that do not add up,
    criteria without weight among weighted ones)."""
    warnings: list[str] = []
    for criterion in criteria:
        criterion.level = CRITERION
        if not criterion.kind or criterion.kind == OTHER:
            criterion.kind = kind_of(criterion.name)
    weighted = [c for c in criteria if c.weight is not None]
    if not weighted:
        for criterion in criteria:
            _clear_shares(criterion)
        return warnings
    if len(weighted) < len(criteria):
        warnings.append(
            _("Some criteria have a weight and others none: %(names)s.")
            % {"names": ", ".join(c.name for c in criteria if c.weight is None)}
        )
    top = _sum(c.weight for c in weighted)
    units = {c.unit for c in weighted}
    expected = total or (100.0 if units == {"%"} else None)
    if expected is not None and not _close(top, expected):
        warnings.append(
            _("The criteria's weights sum to %(sum)s, not %(total)s.")
            % {"sum": _fmt(top), "total": _fmt(expected)}
        )
    elif expected is None and units <= {"points"} and not _close(top, 100):
        pass  # points out of their own total: nothing says what it should be
    for criterion in criteria:
        criterion.share = (
            None if criterion.weight is None or not top else round(criterion.weight / top, 4)
        )
        warnings.extend(_children(criterion))
    return warnings


def _clear_shares(criterion: Criterion) -> None:
    for node in criterion.walk():
        node.share = None


def _children(parent: Criterion) -> list[str]:
    warnings: list[str] = []
    for element in parent.elements:
        element.level, element.share = ELEMENT, None
    subs = parent.subcriteria
    for sub in subs:
        sub.level = SUBCRITERION
        if not sub.kind or sub.kind == OTHER:
            sub.kind = kind_of(sub.name)
    if not subs:
        return warnings
    weighted = [s for s in subs if s.weight is not None]
    if not weighted or parent.share is None:
        for sub in subs:
            _clear_shares(sub)
        if weighted and parent.share is None:
            warnings.append(
                _("“%(name)s” has weighted sub-criteria but no weight of its own.")
                % {"name": parent.name}
            )
        return warnings
    if len(weighted) < len(subs):
        warnings.append(
            _("Some sub-criteria of “%(name)s” have no weight.") % {"name": parent.name}
        )
    total = _sum(s.weight for s in weighted)
    units = {s.unit for s in weighted}
    scales = {100.0} if units == {"%"} else set()
    if parent.weight is not None:
        scales.add(float(parent.weight))
    notes = {s.unit for s in weighted if s.unit and s.unit.startswith("/")}
    global_scale = (
        parent.weight is not None
        and total < parent.weight - 0.01
        and units == {parent.unit}
        and not notes
    )
    if notes or (scales and any(_close(total, s) for s in scales)):
        pass
    elif global_scale:
        warnings.append(
            _("The sub-criteria of “%(name)s” sum to %(sum)s, less than its %(weight)s.")
            % {"name": parent.name, "sum": _fmt(total), "weight": _fmt(parent.weight)}
        )
    else:
        warnings.append(
            _(
                "The sub-criteria of “%(name)s” sum to %(sum)s, which matches neither its weight (%(weight)s) nor 100."
            )
            % {"name": parent.name, "sum": _fmt(total), "weight": _fmt(parent.weight)}
        )
    for sub in subs:
        if sub.weight is None or not total:
            _clear_shares(sub)
            continue
        if global_scale:
            sub.share = round(parent.share * sub.weight / float(parent.weight), 4)
        else:
            sub.share = round(parent.share * sub.weight / total, 4)
        warnings.extend(_children(sub))
    return warnings


def _fmt(value) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:g}"


# --- ids --------------------------------------------------------------------------------------


def assign_ids(criteria: list[Criterion], prefix: str = "") -> None:
    for number, criterion in enumerate(criteria, start=1):
        criterion.id = f"{prefix}C{number}"
        _assign_children(criterion)


def _assign_children(parent: Criterion) -> None:
    for number, sub in enumerate(parent.subcriteria, start=1):
        sub.id = f"{parent.id}.{number}"
        _assign_children(sub)
    for number, element in enumerate(parent.elements, start=1):
        element.id = f"{parent.id}.E{number}"


def flatten(criteria: list[Criterion]) -> list[Criterion]:
    return [node for criterion in criteria for node in criterion.walk()]
