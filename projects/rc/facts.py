"""The key facts of an RC: buyer, subject, location, lots, deadline, page limit and
format, site visit, variants, and the contents the memoir must have.

Each finder returns a ``Found`` (value + where it was read) or None: a fact the RC does
not write is not guessed. Values are read after a label ("Maître d'ouvrage : …"), from
the line after a heading that is only the label, or from a few fixed phrasings ("La
présente consultation a pour objet …"); the table of contents is never read.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any

from projects.rc.dates import PARIS, find_dates, find_time
from projects.rc.document import Document, Line
from projects.rc.text import fold, tidy


@dataclass
class Found:
    value: Any
    line: Line
    start: int  # offset in the line's text
    end: int
    note: str = ""

    @property
    def page(self) -> int | None:
        return self.line.page

    def source(self) -> dict:
        """``{"page", "start", "end", "excerpt"}``: offsets in the page's text."""
        return {
            "page": self.line.page,
            "start": self.line.start + self.start,
            "end": self.line.start + self.end,
            "excerpt": self.line.text.strip()[:300],
        }


def body(doc: Document) -> list[Line]:
    return [line for line in doc.lines if not line.toc]


# --- labelled values ------------------------------------------------------------------------

# Numbering that may come before a label: "1.2", "Article 3 –", "Section I :", "a)".
_NUMBERING = (
    r"^\W*(?:(?:article|section|chapitre|titre)\s+[\divx]+(?:\.\d+)*\s*[-:.)]*\s*"
    r"|\d+(?:\.\d+)*\s*[-:.)]*\s*|[a-z]\s*\)\s*|[ivx]+(?:\.\d+)*\s*[-.)]\s*)?"
)
_SEPARATOR = r"\s*(?:\([^)]*\)\s*)?(?::|-(?=\s)|=)\s*"


def _label_regex(labels: list[str]) -> re.Pattern:
    alternatives = "|".join(labels)
    return re.compile(rf"{_NUMBERING}(?:{alternatives}){_SEPARATOR}(?P<value>\S.*)$")


def _heading_regex(labels: list[str]) -> re.Pattern:
    alternatives = "|".join(labels)
    return re.compile(rf"{_NUMBERING}(?:{alternatives})\s*[:.]?\s*$")


def labelled(
    doc: Document, labels: list[str], *, heading_labels: list[str] | None = None
) -> Found | None:
    """The value after the first of ``labels`` (in their order of preference) found at
    the start of a line; else the line after a heading made of one of
    ``heading_labels``."""
    lines = body(doc)
    for label in labels:
        pattern = _label_regex([label])
        for line in lines:
            match = pattern.match(line.folded)
            if match and match.group("value").strip(" .:-"):
                return Found(
                    line.text[match.start("value") :], line, match.start("value"), len(line.text)
                )
    heading = _heading_regex(heading_labels or labels)
    for position, line in enumerate(lines):
        if heading.match(line.folded) and position + 1 < len(lines):
            following = lines[position + 1]
            return Found(following.text, following, 0, len(following.text))
    return None


def _until(text: str, stops: list[str]) -> int:
    """Where ``text`` (folded) first reaches one of the ``stops`` patterns."""
    cut = len(text)
    for stop in stops:
        match = re.search(stop, text)
        if match:
            cut = min(cut, match.start())
    return cut


def _trim(found: Found | None, stops: list[str], *, max_length: int = 300) -> Found | None:
    if found is None:
        return None
    folded = fold(found.value)
    cut = _until(folded, stops)
    value = tidy(found.value[:cut])
    if not value:
        return None
    return Found(value[:max_length], found.line, found.start, found.start + cut, found.note)


# --- buyer ----------------------------------------------------------------------------------

_BUYER_LABELS = [
    r"maitre d'ouvrage",
    r"maitre de l'ouvrage",
    r"maitrise d'ouvrage",
    r"pouvoir adjudicateur",
    r"entite adjudicatrice",
    r"nom complet de l'acheteur",
    r"nom et adresse (?:officiels )?de l'(?:acheteur|organisme acheteur)",
    r"nom et adresse officiels de l'organisme acheteur",
    r"identification de l'organisme qui passe le marche",
    r"organisme acheteur",
    r"acheteur",
    r"nom et adresses?",  # the European notice's I.1
]
_BUYER_HEADINGS = [
    r"maitre d'ouvrage",
    r"maitre de l'ouvrage",
    r"identification (?:de l'acheteur|du pouvoir adjudicateur|de l'organisme acheteur)",
    r"pouvoir adjudicateur",
    r"acheteur",
]
_BUYER_SENTENCE = re.compile(
    r"\b(?:le maitre d'ouvrage|le pouvoir adjudicateur|l'acheteur) (?:est|sera) "
    r"(?:le |la |l'|les )?(?P<value>.+)$"
)
_BUYER_STOPS = [
    r",",
    r"\s+-\s",
    r"\brepresente",
    r"\bsis\b",
    r"\bdont le siege",
    r";",
    r"\.\s",
    r"\.$",
]


def buyer(doc: Document) -> Found | None:
    """The maître d'ouvrage / pouvoir adjudicateur — never the maître d'œuvre, an
    assistant or a mandatary (their labels do not start the line with these words)."""
    found = labelled(doc, _BUYER_LABELS, heading_labels=_BUYER_HEADINGS)
    sentence = None
    for line in body(doc):
        match = _BUYER_SENTENCE.search(line.folded)
        if match:
            sentence = Found(
                line.text[match.start("value") :], line, match.start("value"), len(line.text)
            )
            break
    if found is not None and found.line.index >= (sentence.line.index if sentence else 10**9):
        # The heading's next line came after an explicit sentence.
        found = sentence
    if found is None:
        found = sentence
    return _trim(found, _BUYER_STOPS)


# --- subject ----------------------------------------------------------------------------------

_SUBJECT_LABELS = [
    r"objet de la consultation",
    r"objet du marche",
    r"objet de l'accord-cadre",
    r"intitule du marche",
    r"intitule",
    r"objet",
]
_SUBJECT_SENTENCE = re.compile(
    r"\bla presente consultation (?:a pour objet|porte sur|concerne)\s*:?\s*(?P<value>.+)$"
)
_SUBJECT_STOPS = [r"\.\s+[A-Za-z]", r"\.$", r";"]


def subject(doc: Document) -> Found | None:
    explicit = None
    for label in _SUBJECT_LABELS:
        pattern = _label_regex([label])
        for line in body(doc):
            match = pattern.match(line.folded)
            if match and match.group("value").strip(" .:-"):
                explicit = Found(
                    line.text[match.start("value") :], line, match.start("value"), len(line.text)
                )
                break
        if explicit:
            break
    if explicit is None:
        heading = _heading_regex([r"objet(?: de la consultation| du marche)?"])
        lines = body(doc)
        for position, line in enumerate(lines[:-1]):
            if heading.match(line.folded) and not _heading_regex([r"\W*"]).match(
                lines[position + 1].folded
            ):
                following = lines[position + 1]
                if not _SUBJECT_SENTENCE.search(following.folded):
                    explicit = Found(following.text, following, 0, len(following.text))
                    break
    if explicit is None:
        for line in body(doc):
            match = _SUBJECT_SENTENCE.search(line.folded)
            if match:
                explicit = Found(
                    line.text[match.start("value") :], line, match.start("value"), len(line.text)
                )
                break
    return _trim(explicit, _SUBJECT_STOPS)


# --- location ---------------------------------------------------------------------------------

_LOCATION_LABELS = [
    r"lieux? (?:principal )?d'execution(?: des travaux| du marche| des prestations)?",
    r"lieu des travaux",
    r"adresse du chantier",
    r"lieu de livraison",
    r"localisation(?: des travaux| du chantier| de l'operation)?",
    r"situation des travaux",
]


def location(doc: Document) -> Found | None:
    return _trim(labelled(doc, _LOCATION_LABELS), [r"\.\s+[A-Z]", r"\.$", r";"])


# --- lots ----------------------------------------------------------------------------------

_LOT = re.compile(
    r"(?:^|[\s(,])lot\s*(?:n\s*°?\s*|no\.?\s*|numero\s*)?(?P<number>\d{1,2})\s*(?::|-|\.(?!\d))\s*"
    r"(?P<name>[a-z][^.;()]*)"
)


@dataclass
class Lot:
    number: str
    name: str
    found: Found

    @property
    def label(self) -> str:
        return f"Lot {self.number} – {self.name}"


def lots(doc: Document) -> list[Lot]:
    """Lots named in the RC ("Lot 02 : Gros œuvre"), one per number, with the shortest
    name written for it (a title line rather than a sentence)."""
    by_number: dict[str, Lot] = {}
    for line in body(doc):
        for match in _LOT.finditer(line.folded):
            number = str(int(match.group("number")))
            raw = line.text[match.start("name") : match.end("name")]
            name = tidy(re.split(r"\s+(?:de l'operation|du marche|de la presente)\b", raw)[0])
            name = tidy(name.split(" : ")[0])
            if not name or len(name) > 80:
                continue
            lot = Lot(number, name, Found(name, line, match.start("name"), match.end("name")))
            if number not in by_number or len(name) < len(by_number[number].name):
                by_number[number] = lot
    return sorted(by_number.values(), key=lambda lot: int(lot.number))


# --- deadline ----------------------------------------------------------------------------------

_DEADLINE_CONTEXT = re.compile(
    r"date (?:et heure )?limites?|heure limite|remise des (?:offres|plis)|reception des (?:offres|plis)"
    r"|depot des (?:offres|plis)|au plus tard|remises? avant|parvenir|deposes? sur|recues? jusqu"
    r"|remis(?:es)? au plus|offres? (?:devront|doivent)"
)
_NOT_DEADLINE = re.compile(
    r"envoi|publication|mise en ligne|visite|validite|questions?|renseignements|demande"
    r"|ordre de service|demarrage|notification|ouverture des plis|initialement|commission"
)
_POSTPONED = re.compile(
    r"(?:reportee?|repoussee?|prorogee?|decalee?|fixee desormais)\s+(?:au|a)\s*$"
)


def deadline(doc: Document) -> Found | None:
    """The date and time offers are due (ISO 8601, Europe/Paris): the date whose line
    (or heading just before) speaks of the offers' deadline, not the cover's dispatch
    date nor a visit; a postponed date wins over the first one."""
    lines = body(doc)
    best, best_score = None, 0
    for position, line in enumerate(lines):
        mentions = find_dates(line.folded)
        if not mentions:
            continue
        previous = lines[position - 1].folded if position else ""
        for mention in mentions:
            before = line.folded[max(0, mention.start - 80) : mention.start]
            score = 0
            if _DEADLINE_CONTEXT.search(line.folded[: mention.start]) or _DEADLINE_CONTEXT.search(
                line.folded
            ):
                score += 3
            elif _DEADLINE_CONTEXT.search(previous) and len(line.folded) < 80:
                score += 3  # a heading "DATE LIMITE …" and the date on the next line
            if _NOT_DEADLINE.search(before) or (
                not _DEADLINE_CONTEXT.search(line.folded) and _NOT_DEADLINE.search(line.folded)
            ):
                score -= 4
            if _POSTPONED.search(before):
                score += 4
            if mention.time is not None:
                score += 1
            if score > best_score:
                best, best_score = (line, mention), score
    if best is None:
        return None
    line, mention = best
    value = mention.iso()
    note = ""
    if mention.time is None:
        following = line.folded[mention.end :]
        alone = find_time(following)
        if alone:
            moment = datetime.datetime.combine(mention.value, alone[2], tzinfo=PARIS)
            return Found(moment.isoformat(), line, mention.start, mention.end + alone[1])
        note = "no time"
    return Found(value, line, mention.start, mention.end, note)


# --- page limit and format -------------------------------------------------------------------

_PAGE_LIMIT = re.compile(
    r"(?:ne (?:devra|pourra|doit|peut) (?:pas )?(?:depasser|exceder)|n'excedera pas|ne depassera pas"
    r"|ne pourra exceder|limitee? a|d'un maximum de|au maximum de|maximum de|au plus|n'excede pas|plafonnee? a)"
    r"\s*(?P<a>\d{1,3})\s*(?:pages|feuillets|feuilles|faces)"
    r"|(?:\bde\s+|:\s*|\b)(?P<b>\d{1,3})\s*(?:pages|feuillets|faces)\s*(?:a4\s*)?(?:\(?\s*recto\)?\s*)?(?:au\s+)?(?:maximum|max\b|au maximum)"
)
_MEMOIR = re.compile(r"memoire|offre technique|note methodologique|dossier technique")
_FORMAT_BITS = [
    (re.compile(r"\ba4\b"), "A4"),
    (re.compile(r"\ba3\b"), "A3"),
    (re.compile(r"recto[- ]verso"), "recto-verso"),
    (re.compile(r"\brecto\b(?![- ]verso)"), "recto"),
    (re.compile(r"police\s+(?P<font>[a-z][a-z ]{1,20}?)(?=\s*(?:,|taille|\d|$))"), "font"),
    (re.compile(r"(?:taille|corps)\s*(?:de\s*)?(?P<size>\d{1,2})"), "size"),
    (re.compile(r"hors annexes"), "hors annexes"),
    (re.compile(r"annexes comprises"), "annexes comprises"),
]


def page_limit(doc: Document) -> Found | None:
    for line in body(doc):
        if not _MEMOIR.search(line.folded):
            continue
        match = _PAGE_LIMIT.search(line.folded)
        if match:
            group = "a" if match.group("a") else "b"
            return Found(int(match.group(group)), line, match.start(group), match.end())
    return None


def format_constraints(found: Found | None) -> list[str]:
    """What the page-limit sentence also imposes: paper, sides, font, annexes."""
    if found is None:
        return []
    text = found.line.folded
    bits = []
    for pattern, label in _FORMAT_BITS:
        match = pattern.search(text)
        if not match:
            continue
        if label == "font":
            bits.append(
                "police " + found.line.text[match.start("font") : match.end("font")].strip()
            )
        elif label == "size":
            bits.append(f"taille {match.group('size')}")
        else:
            bits.append(label)
    return bits


# --- site visit ---------------------------------------------------------------------------------

_VISIT = re.compile(r"\bvisites?\b|\bvisiter\b")
_VISIT_NONE = re.compile(
    r"sans objet|aucune visite|pas de visite|n'est pas (?:prevue|organisee)|ne sera pas organisee|non prevue"
)
_VISIT_OPTIONAL = re.compile(
    r"facultative|conseillee|recommandee|souhaitable|possible|libre|peuvent visiter|pourront visiter|"
    r"(?:n'est|ne sera) pas obligatoire|non obligatoire|pas obligatoire|obligatoire\s*:\s*non"
)
_VISIT_COMPULSORY = re.compile(r"obligatoire|sous peine d'irrecevabilite|imperative")


def _visit_status(folded: str) -> str | None:
    if _VISIT_NONE.search(folded):
        return "none"
    if _VISIT_OPTIONAL.search(folded):
        return "optional"
    if _VISIT_COMPULSORY.search(folded):
        return "compulsory"
    return None


def site_visit(doc: Document) -> Found | None:
    """compulsory / optional / none, from the lines about the visit (a heading "Visite
    du site" is read with the line after it)."""
    lines = body(doc)
    for position, line in enumerate(lines):
        match = _VISIT.search(line.folded)
        if not match or (
            "attestation de visite" in line.folded and "obligatoire" not in line.folded
        ):
            continue
        status = _visit_status(line.folded[match.start() :]) or _visit_status(line.folded)
        if status is None and position + 1 < len(lines) and len(line.folded) < 60:
            following = lines[position + 1]
            status = _visit_status(following.folded)
            if status is not None:
                return Found(status, following, 0, len(following.text))
        if status is not None:
            return Found(status, line, match.start(), len(line.text))
    return None


# --- variants ----------------------------------------------------------------------------------

_VARIANT = re.compile(r"\bvariantes?\b")
_VARIANTS_NO = re.compile(
    r"(?:ne sont pas|n'est pas|ne seront pas)\s+(?:autorisee|admise|acceptee|permise)"
    r"|aucune variante|interdites?|non (?:autorisees|admises|acceptees)|pas de variante"
    r"|prises? en consideration\s*:\s*non"
    r"|variantes?\s*:\s*non|refusees"
)
_VARIANTS_YES = re.compile(
    r"(?:sont|est|seront)\s+(?:autorisee|admise|acceptee|permise)|autorisees?\s*:\s*oui|variantes?\s*:\s*oui"
    r"|(?:peuvent|peut|pourront|sont autorises a)\s+(?:presenter|proposer|remettre)\s+(?:des|une)\s+variantes?"
    r"|prises? en consideration\s*:\s*oui"
    r"|variantes? (?:libres|autorisees|admises)"
)
_VARIANTS_REQUIRED = re.compile(r"\bexigee?s?\b|\bimposee?s?\b|\bvariantes? obligatoires?\b")


def variants_allowed(doc: Document) -> Found | None:
    for line in body(doc):
        match = _VARIANT.search(line.folded)
        if not match:
            continue
        text = line.folded
        if _VARIANTS_REQUIRED.search(text):
            if re.search(r":\s*oui\b", text):
                return Found(True, line, match.start(), len(line.text))
            continue  # "L'acheteur exige des variantes : Non" says nothing of allowing them
        if _VARIANTS_NO.search(text):
            return Found(False, line, match.start(), len(line.text))
        if _VARIANTS_YES.search(text):
            return Found(True, line, match.start(), len(line.text))
    return None


# --- required contents of the memoir -------------------------------------------------------------

_CONTENT_VERB = re.compile(
    r"\b(?:comprendra|comportera|precisera|precisant|presentera|developpera|contiendra|detaillera"
    r"|devra comprendre|devra comporter|devra contenir|devra preciser|devra presenter|comprenant"
    r"|indiquera|decrira|mentionnera|exposera)\b"
)
_ITEM = re.compile(
    r"^\s*(?:(?P<dash>[-–—•*▪◦·>])|(?P<number>\d{1,2}\s*[.)°-])|(?P<letter>[a-z]\s*\)))\s*(?P<text>\S.*)$"
)


def item_kind(match: re.Match) -> str:
    return next(k for k in ("dash", "number", "letter") if match.group(k))


def required_contents(doc: Document) -> list[Found]:
    """The list that follows "Le mémoire technique comprendra :" (or "…précisant :",
    "Il développera notamment :"…), or the items of such a sentence when it lists them
    itself ("…présentera la méthodologie, le phasage et les moyens")."""
    lines = body(doc)
    for position, line in enumerate(lines):
        verb = _CONTENT_VERB.search(line.folded)
        if not verb:
            continue
        previous = lines[position - 1].folded if position else ""
        if not (
            _MEMOIR.search(line.folded) or (_MEMOIR.search(previous) and not line.paragraph_start)
        ):
            continue
        after = line.folded[verb.end() :]
        if line.folded.rstrip().endswith(":"):
            items, kind = [], None
            for following in lines[position + 1 :]:
                match = _ITEM.match(following.folded)
                if not match or (kind and (item_kind(match) != kind or following.paragraph_start)):
                    break
                kind = item_kind(match)
                value = tidy(following.text[match.start("text") :])
                if value:
                    items.append(Found(value, following, match.start("text"), len(following.text)))
            if items:
                return items
            continue
        if _MEMOIR.search(line.folded[: verb.start()]) and re.match(
            r"\s*(?:notamment\s*)?(?:la|le|les|l'|un|une|des)\s", after
        ):
            return _inline_items(line, verb.end())
    return []


def _inline_items(line: Line, start: int) -> list[Found]:
    text = line.text[start:]
    folded = line.folded[start:]
    end = re.search(r"\.(?:\s|$)", folded)
    stop = end.start() if end else len(text)
    items, offset = [], 0
    for part in re.split(r",\s*(?:et\s+)?|\s+et\s+(?=(?:la|le|les|l'|un|une|des)\s)", text[:stop]):
        value = tidy(part)
        position = text.find(part, offset)
        offset = max(offset, position + len(part))
        if value and len(value) > 3:
            items.append(
                Found(value, line, start + max(position, 0), start + max(position, 0) + len(part))
            )
    return items if len(items) >= 2 else []
