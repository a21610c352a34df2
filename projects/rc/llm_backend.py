"""The language-model backend: the configured model reads the RC and answers the same
structure as the parser, validated against a JSON schema; the parser runs beside it.

What is kept: the model's values, except where its answer is unusable (invalid twice,
refused, cut, provider down): then the parser's result stands and a warning says why.
Where the two disagree — a fact, the criteria tree, the required contents — the value
is flagged for the reviewer, and the parser's criteria tree is kept beside the model's
as the alternative. Every value the model gives is looked up in the document for its
source excerpt; a criterion name found nowhere in the text is flagged.
"""

from __future__ import annotations

import copy
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from llm import errors
from llm.client import LLMClient, LLMResult
from projects.rc.analysis import FACT_NAMES, Analysis, Content, Fact
from projects.rc.document import Document
from projects.rc.parser import confidence, link_contents
from projects.rc.text import normalised
from projects.rc.tree import Criterion, kind_of, normalise

NAME = "llm"
PURPOSE = "rc_analysis"

_CRITERION = {
    "type": "object",
    "required": ["name", "weight", "unit"],
    "additionalProperties": True,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 300},
        "weight": {"type": ["number", "null"], "minimum": 0},
        "unit": {"type": ["string", "null"], "pattern": "^(%|points|/[0-9]{1,3})$"},
        "subcriteria": {"type": "array", "items": {"$ref": "#/$defs/criterion"}},
        "elements": {"type": "array", "items": {"type": "string"}},
    },
}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": True,
    "required": [*FACT_NAMES, "required_contents", "criteria", "criteria_by_lot"],
    "properties": {
        "buyer": {"type": ["string", "null"]},
        "subject": {"type": ["string", "null"]},
        "lot": {"type": ["string", "null"]},
        "location": {"type": ["string", "null"]},
        "deadline": {
            "type": ["string", "null"],
            "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?([+-]\d{2}:\d{2}|Z)$",
        },
        "page_limit": {"type": ["integer", "null"], "minimum": 1, "maximum": 1000},
        "site_visit": {"enum": ["compulsory", "optional", "none", None]},
        "variants_allowed": {"type": ["boolean", "null"]},
        "required_contents": {"type": "array", "items": {"type": "string"}},
        "criteria": {"type": "array", "items": {"$ref": "#/$defs/criterion"}},
        "criteria_by_lot": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"$ref": "#/$defs/criterion"}},
        },
        "criteria_deferred": {"type": "boolean"},
    },
    "$defs": {"criterion": _CRITERION},
}

SYSTEM = """You read French public-procurement documents for construction works (règlement \
de la consultation, avis d'appel public à la concurrence) and extract facts exactly as \
written. Never invent: a value the document does not state is null (an empty list for \
lists).

- buyer: the maître d'ouvrage / pouvoir adjudicateur / acheteur (its name only, no \
address) — never the maître d'œuvre, an assistant or a mandatary.
- subject: the object of the consultation, as written. location: the place of execution.
- lot: "Lot N – name" only when the document is about one single lot, else null.
- deadline: when offers are due (not the dispatch date of the notice, not a visit; a \
postponed date replaces the first one), ISO 8601 with the Europe/Paris offset \
(e.g. 2025-03-07T12:00:00+01:00); null if no time is written.
- page_limit: the maximum number of pages of the technical memoir (mémoire technique).
- site_visit: "compulsory", "optional" (recommended, possible, not compulsory) or \
"none" (no visit, "sans objet"). variants_allowed: true / false / null.
- required_contents: what the technical memoir must contain, one string per item, as \
written.
- criteria: the award criteria that apply to the whole consultation (or to its only \
lot), in the document's order, with their sub-criteria. weight: the number as written; \
unit: "%", "points" (also for a bare number), "/N" for a mark out of N ("note sur 10" → \
weight 10, unit "/10"), or null when no weight is written ("pour moitié" → 50, "%"). \
The price criterion may be called valeur économique, coût, coefficient, offre \
financière. Numbers inside a price formula (note = 40 × Pmin / P) are not weights. A \
flattened hierarchy ("Valeur technique : méthodologie 45") is a sub-criterion of its \
parent. "Éléments d'appréciation" without weights go to "elements" (strings), not to \
subcriteria. Criteria listed by decreasing importance without weights have weight null.
- criteria_by_lot: {"<lot number>": [criteria]} only for lots whose criteria differ \
from the consultation's; a lot's criteria win for that lot.
- criteria_deferred: true when the document says the criteria are given in other \
consultation documents; then criteria is empty."""


def _document_text(doc: Document, limit: int) -> tuple[str, bool]:
    parts, size, cut = [], 0, False
    for page in doc.pages:
        chunk = f"[page {page.number or 1}]\n{page.text.strip()}\n"
        if size + len(chunk) > limit:
            parts.append(chunk[: max(0, limit - size)])
            cut = True
            break
        parts.append(chunk)
        size += len(chunk)
    return "\n".join(parts), cut


def ask(doc: Document, client: LLMClient) -> tuple[dict, LLMResult]:
    text, cut = _document_text(doc, settings.RC_LLM_MAX_INPUT_CHARS)
    prompt = (
        "Voici le document (texte extrait, page par page)"
        + (" — tronqué à sa fin pour tenir dans la limite" if cut else "")
        + " :\n\n"
        + text
    )
    result = client.complete_json(prompt, schema=SCHEMA, system=SYSTEM, purpose=PURPOSE)
    return result.data, result


# --- turning the model's answer into an Analysis ------------------------------------------------


def _locate(doc: Document, value: Any) -> dict | None:
    """Where the document writes ``value`` (its first line containing it)."""
    if value is None or value == "":
        return None
    key = normalised(str(value))
    if len(key) < 3:
        return None
    for line in doc.lines:
        if line.toc:
            continue
        if key in normalised(line.text):
            return {
                "page": line.page,
                "start": line.start,
                "end": line.end,
                "excerpt": line.text.strip()[:300],
            }
    return None


def _criterion(data: dict, doc: Document) -> Criterion:
    weight = data.get("weight")
    if isinstance(weight, float) and weight.is_integer():
        weight = int(weight)
    criterion = Criterion(
        name=str(data.get("name") or "").strip(),
        weight=weight,
        unit=data.get("unit") if weight is not None else None,
        written="" if weight is None else f"{weight} {data.get('unit') or ''}".strip(),
        kind=kind_of(str(data.get("name") or "")),
        source=_locate(doc, data.get("name")),
        subcriteria=[_criterion(s, doc) for s in data.get("subcriteria") or []],
        elements=[
            Criterion(name=str(e), level="element", source=_locate(doc, e))
            for e in data.get("elements") or []
            if str(e).strip()
        ],
    )
    return criterion


def _tree_key(tree: list[Criterion]) -> list:
    return [
        (
            normalised(c.name),
            c.weight,
            c.unit,
            _tree_key(c.subcriteria),
            sorted(normalised(e.name) for e in c.elements),
        )
        for c in tree
    ]


def from_answer(data: dict, doc: Document) -> Analysis:
    analysis = Analysis(backend=NAME, pages=doc.page_count)
    for name in FACT_NAMES:
        value = data.get(name)
        if name == "deadline" and isinstance(value, str) and value.endswith("Z"):
            value = value[:-1] + "+00:00"
        source = _locate(doc, value) if isinstance(value, str) and name != "deadline" else None
        analysis.facts[name] = Fact(value, source)
    analysis.procedure_criteria = [_criterion(c, doc) for c in data.get("criteria") or []]
    analysis.criteria_by_lot = {
        str(int(lot)) if str(lot).isdigit() else str(lot): [_criterion(c, doc) for c in tree]
        for lot, tree in (data.get("criteria_by_lot") or {}).items()
    }
    for tree in (analysis.procedure_criteria, *analysis.criteria_by_lot.values()):
        analysis.warnings.extend(normalise(tree))
    analysis.criteria_deferred = bool(data.get("criteria_deferred"))
    analysis.required_contents = [
        Content(str(text).strip(), _locate(doc, text))
        for text in data.get("required_contents") or []
        if str(text).strip()
    ]
    return analysis


# --- merging with the parser -------------------------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return normalised(a) == normalised(b)
    return a == b


def merge(parsed: Analysis, answered: Analysis, *, lot: str | None) -> Analysis:
    """The model's answer, with the parser's sources where they agree and a flag on
    every value where they do not."""
    merged = copy.deepcopy(answered)
    merged.lots = parsed.lots
    merged.format_constraints = parsed.format_constraints
    for name in FACT_NAMES:
        mine, theirs = parsed.facts[name], answered.facts[name]
        if _same(mine.value, theirs.value):
            merged.facts[name] = copy.deepcopy(mine)
            continue
        fact = copy.deepcopy(theirs)
        fact.flag = _("The language model read %(llm)s, the parser %(parser)s: check it.") % {
            "llm": _show(theirs.value),
            "parser": _show(mine.value),
        }
        merged.facts[name] = fact
    parser_choice = parsed.selected_lot
    merged.choose_lot(lot or parser_choice)
    parsed_effective = copy.deepcopy(parsed.criteria)
    if _tree_key(merged.criteria) != _tree_key(parsed_effective) or _tree_key_lots(
        merged
    ) != _tree_key_lots(parsed):
        merged.warnings.append(
            _(
                "The language model and the parser read different award criteria: the "
                "model's are shown, the parser's are kept as the alternative. Check them."
            )
        )
        merged.alternative_criteria = parsed_effective
    else:
        # Same tree: keep the parser's, which knows where each criterion was written.
        merged.criteria = parsed_effective
        merged.procedure_criteria = parsed.procedure_criteria
        merged.criteria_by_lot = parsed.criteria_by_lot
    for node in _walk(merged.criteria):
        if node.source is None and node.level != "element":
            node.flag = _("Not found as such in the document.")
    if [normalised(c.text) for c in merged.required_contents] != [
        normalised(c.text) for c in parsed.required_contents
    ]:
        if not merged.required_contents and parsed.required_contents:
            merged.required_contents = parsed.required_contents
        merged.contents_flag = _(
            "The language model and the parser listed different required contents: check them."
        )
    merged.notes = parsed.notes
    merged.assign_ids()
    merged.choose_lot(lot or parser_choice)
    link_contents(merged)
    merged.confidence = confidence(merged)
    return merged


def _tree_key_lots(analysis: Analysis) -> dict:
    return {lot: _tree_key(tree) for lot, tree in analysis.criteria_by_lot.items()}


def _walk(tree: list[Criterion]):
    for criterion in tree:
        yield from criterion.walk()


def _show(value: Any) -> str:
    if value is None:
        return _("nothing")
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    return f"« {value} »"


def analyse(doc: Document, parsed: Analysis, client: LLMClient, *, lot: str | None) -> Analysis:
    """The merged analysis; on an unusable answer, the parser's with a warning."""
    try:
        data, _result = ask(doc, client)
    except errors.LLMError as exc:
        fallback = copy.deepcopy(parsed)
        fallback.warnings.append(
            _("The language model could not be used (%(error)s): the parser's result is kept.")
            % {"error": exc}
        )
        return fallback
    answered = from_answer(data, doc)
    return merge(parsed, answered, lot=lot)


def flagged(analysis: Analysis) -> list[str]:
    """Names of the facts flagged for review."""
    return [name for name, fact in analysis.facts.items() if fact.flag]
