"""The analysis as the ``rc_analysis`` columns hold it, and back (docs/rc_analysis.md).

* ``project_info``: buyer, subject, lot, location, deadline (each a fact: value, source,
  note, corrected, flag), the lots named, the lot chosen, the backend, the document
  read, warnings, notes, and proposals waiting for a person;
* ``format``: the page limit (a fact) and the format constraints;
* ``special_requirements``: the site visit and the variants, as requirements S1, S2;
* ``required_sections``: the memoir's required contents R1, R2…;
* ``scoring_criteria``: the criteria tree that applies, the procedure's and each lot's.

``merge_reanalysis`` is what a new analysis does to one a person has reviewed: it
replaces what nobody corrected and turns every corrected value it would change into a
proposal, shown on the review page, that the person accepts or ignores.
"""

from __future__ import annotations

import copy
import datetime
from typing import Any

from django.utils.translation import gettext as _

from projects.rc.analysis import FACT_NAMES, Analysis, Content, Fact
from projects.rc.text import normalised
from projects.rc.tree import Criterion, assign_ids, normalise

VERSION = 1
INFO_FACTS = ("buyer", "subject", "lot", "location", "deadline")
REQUIREMENTS = (("S1", "site_visit"), ("S2", "variants_allowed"))


def _tree(data) -> list[Criterion]:
    return [Criterion.from_json(c) for c in data or [] if isinstance(c, dict)]


def to_columns(analysis: Analysis, *, document: dict | None = None) -> dict[str, Any]:
    """The five JSON columns of ``rc_analysis``."""
    info: dict[str, Any] = {"version": VERSION}
    for name in INFO_FACTS:
        info[name] = analysis.facts[name].to_json()
    info.update(
        {
            "lots": analysis.lots,
            "selected_lot": analysis.selected_lot,
            "backend": analysis.backend,
            "document": document or {},
            "pages": analysis.pages,
            "warnings": analysis.warnings,
            "notes": analysis.notes,
            "contents_flag": analysis.contents_flag,
            "contents_corrected": analysis.contents_corrected,
            "proposals": analysis.proposals,
        }
    )
    special = [
        {"id": ident, "kind": name, **analysis.facts[name].to_json()}
        for ident, name in REQUIREMENTS
    ]
    return {
        "project_info": info,
        "format": {
            "page_limit": analysis.facts["page_limit"].to_json(),
            "constraints": analysis.format_constraints,
        },
        "special_requirements": special,
        "required_sections": [c.to_json() for c in analysis.required_contents],
        "scoring_criteria": {
            "version": VERSION,
            "criteria": [c.to_json() for c in analysis.criteria],
            "procedure": [c.to_json() for c in analysis.procedure_criteria],
            "by_lot": {
                lot: [c.to_json() for c in tree] for lot, tree in analysis.criteria_by_lot.items()
            },
            "lot": analysis.selected_lot,
            "deferred": analysis.criteria_deferred,
            "ranked": analysis.ranked,
            "corrected": analysis.criteria_corrected,
            "alternative": [c.to_json() for c in analysis.alternative_criteria],
        },
    }


def from_row(row) -> Analysis:
    """The analysis stored in an ``RCAnalysis`` row (empty for one created by hand)."""
    info = row.project_info if isinstance(row.project_info, dict) else {}
    analysis = Analysis()
    for name in INFO_FACTS:
        analysis.facts[name] = Fact.from_json(info.get(name))
    fmt = row.format if isinstance(row.format, dict) else {}
    analysis.facts["page_limit"] = Fact.from_json(fmt.get("page_limit"))
    analysis.format_constraints = [str(c) for c in fmt.get("constraints") or []]
    for item in row.special_requirements if isinstance(row.special_requirements, list) else []:
        if isinstance(item, dict) and item.get("kind") in ("site_visit", "variants_allowed"):
            analysis.facts[item["kind"]] = Fact.from_json(item)
    analysis.required_contents = [
        Content.from_json(c)
        for c in (row.required_sections if isinstance(row.required_sections, list) else [])
        if isinstance(c, dict)
    ]
    scoring = row.scoring_criteria if isinstance(row.scoring_criteria, dict) else {}
    if "version" not in scoring and scoring and "criteria" not in scoring:
        # Typed by hand before the analysis existed: {"valeur technique": 60, "prix": 40}.
        legacy = [
            Criterion(name=str(name), weight=value, unit="points", written=str(value))
            for name, value in scoring.items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        ]
        assign_ids(legacy)
        normalise(legacy)
        scoring = {"criteria": [c.to_json() for c in legacy]}
    analysis.criteria = _tree(scoring.get("criteria"))
    analysis.procedure_criteria = _tree(scoring.get("procedure"))
    analysis.criteria_by_lot = {
        str(lot): _tree(tree) for lot, tree in (scoring.get("by_lot") or {}).items()
    }
    analysis.selected_lot = scoring.get("lot")
    analysis.criteria_deferred = bool(scoring.get("deferred"))
    analysis.ranked = bool(scoring.get("ranked"))
    analysis.criteria_corrected = bool(scoring.get("corrected"))
    analysis.alternative_criteria = _tree(scoring.get("alternative"))
    analysis.lots = list(info.get("lots") or [])
    analysis.backend = info.get("backend") or "manual"
    analysis.pages = info.get("pages") or 0
    analysis.warnings = list(info.get("warnings") or [])
    analysis.notes = list(info.get("notes") or [])
    analysis.contents_flag = info.get("contents_flag") or ""
    analysis.contents_corrected = bool(info.get("contents_corrected"))
    analysis.proposals = dict(info.get("proposals") or {})
    analysis.confidence = row.confidence_score or 0.0
    return analysis


# --- a new analysis over a reviewed one --------------------------------------------------------


def _tree_signature(tree: list[Criterion]) -> list:
    return [
        (
            normalised(c.name),
            c.weight,
            c.unit,
            _tree_signature(c.subcriteria),
            [normalised(e.name) for e in c.elements],
        )
        for c in tree
    ]


def merge_reanalysis(previous: Analysis | None, new: Analysis) -> Analysis:
    """``new``, except where a person corrected ``previous``: their value stays, and
    the new one, if it differs, waits as a proposal (``analysis.proposals``)."""
    merged = copy.deepcopy(new)
    merged.proposals = {}
    if previous is None:
        return merged
    facts: dict[str, Any] = {}
    for name in FACT_NAMES:
        old = previous.facts[name]
        if not old.corrected:
            continue
        merged.facts[name] = copy.deepcopy(old)
        if normalised(str(old.value)) != normalised(str(new.facts[name].value)):
            facts[name] = new.facts[name].to_json()
    if facts:
        merged.proposals["facts"] = facts
    if previous.criteria_corrected:
        merged.criteria = copy.deepcopy(previous.criteria)
        merged.criteria_corrected = True
        if _tree_signature(new.criteria) != _tree_signature(previous.criteria):
            merged.proposals["criteria"] = [c.to_json() for c in new.criteria]
    if previous.contents_corrected:
        merged.required_contents = copy.deepcopy(previous.required_contents)
        merged.contents_corrected = True
        if [normalised(c.text) for c in new.required_contents] != [
            normalised(c.text) for c in previous.required_contents
        ]:
            merged.proposals["required_contents"] = [c.to_json() for c in new.required_contents]
    if merged.proposals:
        merged.warnings.append(
            _(
                "The new analysis differs from values a person corrected: they were kept, "
                "and the new values are proposed on the review page."
            )
        )
    return merged


# --- the project's own fields -----------------------------------------------------------------

#: Project field ← fact.
PROJECT_FIELDS = (
    ("client", "buyer"),
    ("lot", "lot"),
    ("location", "location"),
    ("deadline", "deadline"),
)


def project_value(field: str, fact_value: Any) -> Any:
    """The fact as the project's field holds it (None when it does not fit)."""
    if fact_value in (None, ""):
        return None
    if field == "deadline":
        if not isinstance(fact_value, str) or "T" not in fact_value:
            return None  # a date without a time is not a deadline to fill in
        try:
            moment = datetime.datetime.fromisoformat(fact_value)
        except ValueError:
            return None
        return moment if moment.tzinfo else None
    limit = {"client": 255, "lot": 100, "location": 255}[field]
    return str(fact_value)[:limit]


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat()
    return str(value)


def fill_project(project, analysis: Analysis) -> dict[str, dict]:
    """Set the project's client, lot, location and deadline from the analysis where they
    are empty, or still hold what an earlier analysis filled in (nobody changed them).
    Returns the changes ``{field: {"old", "new"}}``; the caller saves."""
    state = dict((project.metadata or {}).get("rc_analysis") or {})
    filled = dict(state.get("filled") or {})
    changes = {}
    for field, fact in PROJECT_FIELDS:
        value = project_value(field, analysis.facts[fact].value)
        if value is None:
            continue
        current = getattr(project, field)
        untouched = current in (None, "") or _as_text(current) == filled.get(field)
        if untouched and _as_text(current) != _as_text(value):
            changes[field] = {"old": _as_text(current), "new": _as_text(value)}
            setattr(project, field, value)
        if untouched:
            filled[field] = _as_text(value)
    state["filled"] = filled
    project.metadata = {**(project.metadata or {}), "rc_analysis": state}
    return changes
