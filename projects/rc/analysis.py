"""What an analysis found, whichever backend found it: the key facts, the criteria tree
(the one that applies, the procedure's and each lot's), the memoir's required contents,
warnings and notes. ``to_output`` is what ``analyse_rc`` prints; ``projects.rc.storage``
turns it into the ``rc_analysis`` columns and back.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from projects.rc.tree import Criterion, assign_ids

#: Key facts, in the order the review form shows them.
FACT_NAMES = (
    "buyer",
    "subject",
    "lot",
    "location",
    "deadline",
    "page_limit",
    "site_visit",
    "variants_allowed",
)
SITE_VISIT_VALUES = ("compulsory", "optional", "none")


@dataclass
class Fact:
    value: Any = None
    source: dict | None = None  # {"page", "start", "end", "excerpt"}
    note: str = ""
    corrected: bool = False  # a person changed it in the review form
    flag: str = ""  # what needs a person's eye (LLM and parser disagree…)

    def to_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "source": self.source,
            "note": self.note,
            "corrected": self.corrected,
            "flag": self.flag,
        }

    @classmethod
    def from_json(cls, data: Any) -> Fact:
        if not isinstance(data, dict):
            return cls(value=data)
        return cls(
            value=data.get("value"),
            source=data.get("source"),
            note=data.get("note") or "",
            corrected=bool(data.get("corrected")),
            flag=data.get("flag") or "",
        )


@dataclass
class Content:
    """One thing the memoir must contain."""

    text: str
    source: dict | None = None
    id: str = ""
    criterion: str | None = None  # the id of the criterion it serves, when one is clear
    corrected: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "criterion": self.criterion,
            "source": self.source,
            "corrected": self.corrected,
        }

    @classmethod
    def from_json(cls, data: dict) -> Content:
        return cls(
            id=str(data.get("id") or ""),
            # Rows typed by hand before the analysis existed may name it "title".
            text=str(data.get("text") or data.get("title") or ""),
            criterion=data.get("criterion"),
            source=data.get("source"),
            corrected=bool(data.get("corrected")),
        )


@dataclass
class Analysis:
    facts: dict[str, Fact] = field(default_factory=lambda: {n: Fact() for n in FACT_NAMES})
    format_constraints: list[str] = field(default_factory=list)
    criteria: list[Criterion] = field(default_factory=list)  # the tree that applies
    procedure_criteria: list[Criterion] = field(default_factory=list)
    criteria_by_lot: dict[str, list[Criterion]] = field(default_factory=dict)
    lots: list[dict] = field(default_factory=list)  # [{"number", "name", "source"}]
    selected_lot: str | None = None
    required_contents: list[Content] = field(default_factory=list)
    criteria_deferred: bool = False
    ranked: bool = False
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    backend: str = "parser"
    pages: int = 0
    confidence: float = 0.0
    seconds: float = 0.0
    criteria_corrected: bool = False
    contents_corrected: bool = False
    #: The parser's tree when the language model read another one (for the reviewer).
    alternative_criteria: list[Criterion] = field(default_factory=list)
    contents_flag: str = ""
    #: New values of a re-analysis for what a person corrected (``storage.merge_reanalysis``).
    proposals: dict = field(default_factory=dict)

    def value(self, name: str) -> Any:
        return self.facts[name].value

    def assign_ids(self) -> None:
        assign_ids(self.criteria)
        assign_ids(self.procedure_criteria, "P.")
        for lot, tree in self.criteria_by_lot.items():
            assign_ids(tree, f"L{lot}.")
        for number, content in enumerate(self.required_contents, start=1):
            content.id = f"R{number}"

    def choose_lot(self, lot: str | None) -> None:
        """Make ``criteria`` the tree that applies to ``lot`` (a lot's own criteria win
        over the procedure's)."""
        self.selected_lot = lot
        tree = self.criteria_by_lot.get(lot) if lot else None
        self.criteria = copy.deepcopy(tree if tree is not None else self.procedure_criteria)
        assign_ids(self.criteria)

    def to_output(self) -> dict[str, Any]:
        """The JSON object ``manage.py analyse_rc`` prints."""
        out: dict[str, Any] = {name: self.facts[name].value for name in FACT_NAMES}
        out["required_contents"] = [c.text for c in self.required_contents]
        out["criteria"] = [c.to_output() for c in self.criteria]
        out["criteria_by_lot"] = {
            lot: [c.to_output() for c in tree] for lot, tree in self.criteria_by_lot.items()
        }
        out["warnings"] = [*self.warnings, *self.notes]
        return out
