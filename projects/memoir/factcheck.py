"""Refusing prose that names a certification or a person the approved content does not
hold: whatever wrote it (a language model, a past memoir's passage), a section may only
claim the company's approved, valid certifications and name its approved people.

Certifications are recognised by their scheme's name (Qualibat, MASE, ISO 9001…) and by
the numbers of the company's certificates; people by the names on the company's CVs and
by a civility followed by a capitalised name ("M. Durand", "Mme Claire Petit").
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from library import facts, parsing
from library.choices import BlockType
from library.models import ContentBlock
from projects.memoir.tables import valid_certification

#: Folded text patterns of each certification scheme.
SCHEME_PATTERNS = {
    facts.CertificationScheme.QUALIBAT: r"\bqualibat\b",
    facts.CertificationScheme.MASE: r"\bmase\b",
    facts.CertificationScheme.ISO_9001: r"\biso\s*9001\b",
    facts.CertificationScheme.ISO_14001: r"\biso\s*14001\b",
    facts.CertificationScheme.ISO_45001: r"\biso\s*45001\b|\bohsas\s*18001\b",
    facts.CertificationScheme.RGE: r"\brge\b",
    facts.CertificationScheme.QUALIFELEC: r"\bqualifelec\b",
    facts.CertificationScheme.OPQIBI: r"\bopqibi\b",
}
CIVILITY = re.compile(
    r"\b(?:M\.|Mme|Mlle|Monsieur|Madame)\s+((?:[A-ZÀ-Ý][\w'’-]+)(?:\s+[A-ZÀ-Ý][\w'’-]+)?)"
)


def _fold(text: str) -> str:
    return parsing.fold(text or "")


@dataclass
class Allowed:
    """What a section may name: the approved valid certifications and people."""

    schemes: set[str] = field(default_factory=set)
    numbers: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)  # folded full names
    name_words: set[str] = field(default_factory=set)  # folded words of the names
    #: Folded phrases of the approved facts that may contain a scheme's name without
    #: claiming it (a CV's training "Encadrement de chantier MASE").
    phrases: set[str] = field(default_factory=set)
    #: Folded names, clients and types of the approved past projects: a reference cited
    #: ("Siège MASE de Pau", a client "M. et Mme Durand") claims no certification and
    #: names no one of the company.
    cited: set[str] = field(default_factory=set)

    def allows_person(self, name: str) -> bool:
        folded = _fold(name)
        if folded in self.names:
            return True
        words = folded.split()
        return bool(words) and all(w in self.name_words for w in words)


def _mentions(folded_text: str, term: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(_fold(term))}(?!\w)", folded_text) is not None


def allowed_in(blocks, on: datetime.date, past_projects=()) -> Allowed:
    allowed = Allowed()
    for past in past_projects:
        allowed.cited.update(
            _fold(text) for text in (past.name, past.client, past.project_type) if text
        )
    for block in blocks:
        if block.type == BlockType.CERTIFICATION:
            cert = facts.read(block)
            if valid_certification(cert, on):
                if cert.scheme:
                    allowed.schemes.add(cert.scheme)
                if cert.number:
                    allowed.numbers.add(_fold(cert.number))
        elif block.type == BlockType.PERSON_CV:
            cv = facts.read(block)
            if cv.name:
                allowed.names.add(_fold(cv.name))
                allowed.name_words.update(_fold(cv.name).split())
            for qualification in cv.qualifications:
                allowed.phrases.update(
                    _fold(text) for text in (qualification.name(), qualification.label) if text
                )
    return allowed


@dataclass(frozen=True)
class KnownFact:
    """A certificate number or a person's name of one of the company's blocks, read
    and folded once for every text a generation checks."""

    block_id: object
    kind: str  # "number" or "person"
    value: str
    folded: str


def company_facts(company) -> list[KnownFact]:
    """The certificate numbers and people of the company's blocks (what a text could
    name), read once: a generation checks some sixty paragraphs against them."""
    known = []
    for block in (
        ContentBlock.objects.for_company(company)
        .filter(type__in=[BlockType.CERTIFICATION, BlockType.PERSON_CV])
        .only("pk", "type", "metadata", "title")
    ):
        if block.type == BlockType.CERTIFICATION:
            kind, value = "number", facts.read(block).number
            if not value or len(value) < 3:
                continue
        else:
            kind, value = "person", facts.read(block).name
        folded = _fold(value) if value else ""
        if folded:
            known.append(KnownFact(block.pk, kind, value, folded))
    return known


def unknown_facts(
    company,
    text: str,
    blocks,
    on: datetime.date,
    *,
    others: list[KnownFact] | None = None,
    past_projects=(),
) -> list[str]:
    """What ``text`` names that ``blocks`` and ``past_projects`` (the approved content)
    do not hold, each as a French phrase; empty when the text is clean. ``others``:
    ``company_facts(company)`` when already read."""
    allowed = allowed_in(blocks, on, past_projects)
    folded = _fold(text)
    for phrase in sorted(allowed.cited, key=len, reverse=True):
        folded = folded.replace(phrase, " ")
    scanned = folded
    for phrase in sorted(allowed.phrases, key=len, reverse=True):
        scanned = scanned.replace(phrase, " ")
    problems: list[str] = []
    for scheme, pattern in SCHEME_PATTERNS.items():
        if re.search(pattern, scanned) and scheme not in allowed.schemes:
            problems.append(
                _("the certification “%(name)s”")
                % {"name": facts.CertificationScheme(scheme).label}
            )
    # The company's own certificates and people that are not in the approved content.
    approved_ids = {b.pk for b in blocks}
    for fact in others if others is not None else company_facts(company):
        # A substring test first: the word-boundary search only for the few present.
        if fact.block_id in approved_ids or fact.folded not in folded:
            continue
        if fact.kind == "number":
            if fact.folded not in allowed.numbers and _mentions(folded, fact.value):
                problems.append(_("the certificate number “%(number)s”") % {"number": fact.value})
        elif not allowed.allows_person(fact.value) and _mentions(folded, fact.value):
            problems.append(_("the person “%(name)s”") % {"name": fact.value})
    for match in CIVILITY.finditer(text or ""):
        name = match.group(1)
        if any(_fold(match.group(0)) in phrase for phrase in allowed.cited):
            continue  # the client of a past project cited
        if not allowed.allows_person(name):
            phrase = _("the person “%(name)s”") % {"name": name}
            if phrase not in problems:
                problems.append(phrase)
    return problems
