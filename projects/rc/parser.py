"""The offline French parser: a document in, an ``Analysis`` out — deterministic, no
network, every value with the page and span it was read from."""

from __future__ import annotations

import re
import time

from django.utils.translation import gettext as _

from projects.rc import criteria as criteria_module
from projects.rc import facts
from projects.rc.analysis import Analysis, Content, Fact
from projects.rc.document import Document
from projects.rc.text import fold
from projects.rc.tree import flatten

NAME = "parser"


def lot_number(text: str | None) -> str | None:
    """ "Lot 02 – Gros œuvre", "lot n°2", "2" → "2"."""
    if not text:
        return None
    match = re.search(r"(?:\blot\s*(?:n\s*°?\s*|no\.?\s*)?)?(\d{1,2})\b", fold(text))
    return str(int(match.group(1))) if match else None


def analyse(doc: Document, *, lot: str | None = None) -> Analysis:
    """Everything the parser reads in ``doc``; ``lot`` (the project's lot, when known)
    chooses which lot's criteria apply."""
    started = time.perf_counter()
    analysis = Analysis(backend=NAME, pages=doc.page_count)
    for name, finder in (
        ("buyer", facts.buyer),
        ("subject", facts.subject),
        ("location", facts.location),
        ("deadline", facts.deadline),
        ("site_visit", facts.site_visit),
        ("variants_allowed", facts.variants_allowed),
    ):
        found = finder(doc)
        if found is not None:
            analysis.facts[name] = Fact(found.value, found.source())
            if name == "deadline" and found.note == "no time":
                analysis.warnings.append(
                    _("The deadline's date is written without a time: check it.")
                )
    limit = facts.page_limit(doc)
    if limit is not None:
        analysis.facts["page_limit"] = Fact(limit.value, limit.source())
        analysis.format_constraints = facts.format_constraints(limit)

    lots = facts.lots(doc)
    analysis.lots = [
        {"number": lot_.number, "name": lot_.name, "source": lot_.found.source()} for lot_ in lots
    ]
    chosen = lot_number(lot) if lot else (lots[0].number if len(lots) == 1 else None)
    if chosen is not None:
        named = next((lot_ for lot_ in lots if lot_.number == chosen), None)
        if named is not None:
            analysis.facts["lot"] = Fact(named.label, named.found.source())

    found = criteria_module.extract(doc)
    analysis.procedure_criteria = found.criteria
    analysis.criteria_by_lot = found.by_lot
    analysis.criteria_deferred = found.deferred
    analysis.ranked = found.ranked
    analysis.warnings.extend(found.warnings)
    analysis.choose_lot(chosen)
    if not analysis.criteria and found.by_lot and chosen is None:
        analysis.warnings.append(
            _(
                "The criteria differ from one lot to another (lots %(lots)s) and no lot was "
                "chosen: set the project's lot."
            )
            % {"lots": ", ".join(sorted(found.by_lot, key=int))}
        )
    if found.ranked:
        analysis.notes.append(
            _("The criteria are listed by decreasing importance, without weights.")
        )

    analysis.required_contents = [
        Content(item.value, item.source()) for item in facts.required_contents(doc)
    ]
    analysis.assign_ids()
    link_contents(analysis)
    analysis.confidence = confidence(analysis)
    analysis.seconds = time.perf_counter() - started
    return analysis


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]{4,}", fold(text))} - {
        "dans",
        "pour",
        "avec",
        "leur",
        "leurs",
        "sont",
        "des",
        "chantier",
        "travaux",
        "offre",
    }


def link_contents(analysis: Analysis) -> None:
    """Tie each required content to the criterion or sub-criterion it serves, when
    their names share most of their words ("les moyens humains…" → "Moyens humains et
    matériels")."""
    nodes = [n for n in flatten(analysis.criteria) if n.level != "element"]
    for content in analysis.required_contents:
        words = _words(content.text)
        best, best_score = None, 0.0
        for node in nodes:
            name_words = _words(node.name)
            if not name_words or not words:
                continue
            score = len(words & name_words) / len(name_words)
            if score > best_score or (score == best_score and best and len(node.id) > len(best.id)):
                best, best_score = node, score
        content.criterion = best.id if best is not None and best_score >= 0.5 else None


def confidence(analysis: Analysis) -> float:
    """A rough 0–1 score of how complete and consistent the result is (what the
    reviewer should expect to fix), not a probability."""
    score = 1.0
    if not analysis.criteria and not analysis.criteria_deferred:
        score -= 0.35
    score -= 0.1 * min(3, len(analysis.warnings))
    for name in ("buyer", "subject", "deadline"):
        if analysis.facts[name].value is None:
            score -= 0.1
    return round(max(0.0, min(1.0, score)), 2)
