"""The award criteria of an RC, as a tree, per lot where lots differ.

1. **Where.** Every line that announces the criteria ("Jugement des offres",
   "Critères d'attribution", "…selon les critères pondérés suivants :") opens a window
   that runs to the next heading; table-of-contents lines are never windows. Each
   window is parsed and the one that yields the most criteria wins, so the "Jugement
   des offres …… 7" of a sommaire or a cover's mention loses to the article itself.
2. **What.** Each line of the window is cut at ";" into parts, and each part read as one
   of the shapes RCs use: "Nom : 60 %", "Nom (60 points)", "60 % : nom", "Nom ……… 25 pts",
   "Nom : note sur 10", "Critère : Prix – Pondération : 40", "Nom 40" (a bare weight,
   taken as points), "Parent 60 % : a 25 pts, b 15 pts", "Parent : enfant 45"
   (a flattened hierarchy), or a sentence ("la valeur technique pour 60 % et le prix
   pour 40 %", "…(60 %) appréciée au vu de la méthodologie (30 %)…", "pour moitié sur
   …"). Formulas ("Note = 40 × Pmin / P") and statements of a scale ("La valeur
   technique est notée sur 20 points") are not weights.
3. **Levels.** List markers nest as in the document (the first marker seen is the top
   level; "Sous-critère", "dont", "1.1" under "1" go one level down); a run of
   criteria whose weights sum to the weight of the one before them, where the whole
   would otherwise exceed 100, is that criterion's sub-criteria; unweighted items after
   "éléments d'appréciation" are elements, not sub-criteria; after "par ordre
   décroissant d'importance" unweighted items are criteria with a rank.
4. **Lots.** "Pour le lot 2 :" (or "Par dérogation, pour le lot n°2, … :") sends what
   follows to that lot's own tree until "Pour l'ensemble des lots".
5. **Nothing invented.** An RC that defers its criteria to the consultation documents
   gets no criteria and a note saying so.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from projects.rc.document import Document, Line
from projects.rc.text import fold, number, strip_articles, tidy
from projects.rc.tree import Criterion, kind_of, normalise

# --- where the criteria are ---------------------------------------------------------------------

_ANNOUNCE = re.compile(
    r"jugement des offres|criteres? (?:d'attribution|de jugement|de selection|de choix|d'analyse"
    r"|retenus|ponderes|suivants|de notation|d'evaluation)|criteres? et (?:leur )?ponderation"
    r"|selection des offres|choix de l'offre|analyse des offres|classement des offres"
    r"|attribution du marche|examen des offres|offre economiquement la plus avantageuse"
    r"|notation des offres|jugement et classement"
    r"|^\W*(?:(?:article|section)\s+[\divx]+\s*[-.:]?\s*|\d+\s*[-.)]\s*)?criteres?\s*:?\s*$"
    r"|^\W*critere\s*(?:n\s*°?\s*)?(?:1|a)\s*[:\-.)]"
    r"|^\W*criteres?\s*(?:de \w+\s*)?:\s*\S"
)
_HEADING_WORDS = re.compile(r"^(?:article|section|chapitre|titre|annexe)\s+[\divx]+", re.IGNORECASE)
_OTHER_SECTION = re.compile(
    r"^\W*(?:\d+(?:\.\d+)*\s*[-.)]?\s*)?(?:visites?|variantes?|date limite|remise des (?:offres|plis)"
    r"|conditions (?:d'envoi|de remise)|memoire technique\b|contenu d|presentation des offres"
    r"|delai de validite|renseignements|modalites de remise|retrait du dossier|negociation)"
)
_NUMBERED = re.compile(r"^\s*(\d{1,2}(?:\.\d{1,2})*)\s*[-.)]?\s+\S")
_DEFERRED = re.compile(
    r"criteres?.{0,120}?(?:precises?|indiques?|enonces?|definis?|detailles?|mentionnes?|figurent|figurant"
    r"|fixes?|presentes?)\s+(?:dans|a|au|en)\s+(?:le |la |les |l')?(?:present )?"
    r"(?:reglement|documents?|dossier|avis|cahier|ccap|rc\b|dce|annexe)"
)
_DEFERRED_RC = re.compile(r"(?:reglement de (?:la )?consultation|\brc\b)")

# --- weights ---------------------------------------------------------------------------------------

_W = r"(?P<w>\d{1,3}(?:[.,]\d{1,2})?)"
_UNIT = r"(?P<unit>%|pour\s*cent|points?\b|pts?\b\.?)"
_MENTION = re.compile(
    r"(?P<pond>\(?\s*(?:ponderation|poids|coefficient de ponderation)\s*(?:de\s*)?[:=]?\s*"
    r"(?P<pw>\d{1,3}(?:[.,]\d{1,2})?)\s*(?P<punit>%|points?)?\s*\)?)"
    rf"|(?P<pour>\bpour\s+|\ba hauteur de\s+|\bsoit\s+|\ba\s+(?=\d))?\(?\s*{_W}\s*{_UNIT}\s*\)?"
    rf"|(?P<note>\(?\s*(?:note|notee?|evaluee?)\s+sur\s+(?P<n>\d{{1,3}})\s*(?:points?|pts?)?\s*\)?)"
    r"|(?P<slash>\(?\s*/\s*(?P<s>\d{1,3})\s*\)?)"
    r"|(?P<half>\bpour (?:moitie|la moitie)\b)"
)
_BARE_END = re.compile(r"(?:[:\-=]|\.{2,}|\s)\s*(?P<w>\d{1,3}(?:[.,]\d{1,2})?)\s*[.;,]?\s*$")
_SCALE = re.compile(
    r"\b(?:est|sont|sera|seront|etant)\s+(?:note|notee|notes|notees|evaluee?s?|calculee?s?|apprecie(?:e|es|s)?|exprime(?:e|es|s)?)\s+sur\s+(?:le total de\s+)?(?P<n>\d{1,3})"
    r"|\(?\s*notation sur (?P<m>\d{1,3})"
    r"|(?:offres?|notes?) (?:sont |seront )?notees? sur (?P<o>\d{1,3})"
)
_FORMULA = re.compile(
    r"\([^()]*(?:=|\bx\b|\bpmin|\bomin|\bcmin|/\s*[a-z])[^()]*\)"
    r"|(?:selon la |par la |suivant la )?formule\b.*$"
    r"|\b(?:note|n|np|nt)\s*(?:prix\s*)?=.*$"
)
_TOTAL = re.compile(r"^\W*total\b")

# --- list markers ------------------------------------------------------------------------------------

_MARKERS = [
    (
        "subcriterion",
        re.compile(r"^\W*sous[- ]criteres?\s*(?:n\s*°?\s*)?(?:\d+(?:\.\d+)*)?\s*[:\-.)]?\s*"),
    ),
    ("criterion", re.compile(r"^\W*criteres?\s*(?:n\s*°?\s*)?\d+(?:\.\d+)*\s*[:\-.)]?\s*")),
    ("criterion", re.compile(r"^\W*c\d+\s*[:\-.)]\s*")),
    ("criterion", re.compile(r"^\W*criteres?\s+[a-h]\s*[:\-.)]\s*")),
    ("subcriterion", re.compile(r"^\W*(?:[a-h]|c\d{1,2}\.)\d{1,2}\s*[:\-.)]\s*")),
    ("notice", re.compile(r"^\W*critere\s*:\s*")),
    ("dont", re.compile(r"^\W*dont\s+")),
    ("num", re.compile(r"^\s*(?P<num>\d{1,2}(?:\.\d{1,2})+)\.?\s+(?=[a-z(])")),
    ("num", re.compile(r"^\s*(?P<num>\d{1,2}(?:\.\d{1,2})*)\s*(?:[.)°]|-(?=\s))\s*(?=\S)")),
    ("letter", re.compile(r"^\s*[a-h]\s*[).]\s*")),
    ("roman", re.compile(r"^\s*[ivx]{1,4}\s*[).]\s*")),
    ("bullet", re.compile(r"^\s*(?P<char>[-–—•*▪◦·>o])\s+")),
]

_NAME_CUTS = re.compile(
    r",|\s(?:apprecie(?:e|es|s)?|jugee?s?|decompose(?:e|es|s)?|repartie?s?|evaluee?s?|notee?s?|analysee?s?"
    r"|determinee?s?|calculee?s?|mesuree?s?)\b|\s+dont\b|\s-\s+ponderation|\s+ponderation\b|\s+comme suit"
    r"|\s+(?:est|sont|sera|seront)\s+(?:pondere|ponderee|ponderes|affecte|affectee|note|notee|retenu)"
)
_SENTENCE_LEAD = re.compile(
    r"^.*(?::|\bsuivants?\b|\bau regard (?:de la|du|des|de l'|de)|\bau vu (?:de la|du|des|de l'|de)|\ben fonction (?:de la|du|des|de l'|de)"
    r"|\bsur la base (?:de la|du|des|de l'|de)|\bselon (?:la|le|les|l')?)\s*"
)
_SUB_OPENERS = re.compile(
    r"apprecie(?:e|es|s)? (?:au vu|au regard|sur la base|selon|en fonction)|decompose(?:e|es|s)?|repartie?s?|\bdont\b"
    r"|sous-criteres?|se decompos|comme suit|ainsi\s*:|subdivise"
)
_ELEMENTS = re.compile(
    r"elements? d'appreciation|non ponderee?s|elements suivants|au regard des elements"
)
_RANKED = re.compile(
    r"ordre decroissant|ordre de priorite|par ordre d'importance|importance decroissante|priorite decroissante"
)
_LOT_CONTEXT = re.compile(
    r"(?:^|\bpour\s+(?:le|les)\s+|^\W*)lots?\s*(?:n\s*°?\s*|no\.?\s*)?(?P<number>\d{1,2})\b(?P<rest>.*)$"
)
_ALL_LOTS = re.compile(r"(?:pour )?(?:l'ensemble des|tous les|chacun des) lots|pour chaque lot")


@dataclass
class Item:
    name: str
    weight: float | int | None
    unit: str | None
    written: str
    line: Line
    start: int
    end: int
    marker: str | None = None
    depth: int = 0  # numbering depth ("4.1.1" → 3)
    sub: bool | None = None  # explicit level: True = sub-criterion, False = criterion
    parent_name: str | None = None  # "Valeur technique : méthodologie 45"
    element: bool = False
    lot: str | None = None
    children: list[Item] = field(default_factory=list)
    sentence: bool = False

    def source(self) -> dict:
        """Where the criterion is written: its own span (name and weight) when the line
        holds several criteria (a sentence, a flattened table), else the line."""
        own = self.line.text[self.start : self.end].strip(" ;,.")
        excerpt = own if len(own) >= 8 and len(self.line.text) > 140 else self.line.text.strip()
        return {
            "page": self.line.page,
            "start": self.line.start + self.start,
            "end": self.line.start + self.end,
            "excerpt": excerpt[:300],
        }


@dataclass
class CriteriaResult:
    criteria: list[Criterion]
    by_lot: dict[str, list[Criterion]]
    warnings: list[str]
    deferred: bool = False
    ranked: bool = False
    total: float | None = None
    window: tuple[int, int] | None = None  # (first line, last line) read


# --- entry point ---------------------------------------------------------------------------------------


def extract(doc: Document) -> CriteriaResult:
    lines = doc.lines
    starts = [line.index for line in lines if not line.toc and _ANNOUNCE.search(line.folded)]
    best: tuple[float, list[Item], dict, tuple[int, int]] | None = None
    deferred = False
    for start in starts:
        window = _window(lines, start)
        state = _State()
        items = _parse_window(window, state)
        weighted = sum(1 for i in items if i.weight is not None)
        score = weighted + 0.5 * (len(items) - weighted)
        if score and (best is None or score > best[0]):
            best = (
                score,
                items,
                {"ranked": state.ranked, "total": state.total},
                (window[0].index, window[-1].index),
            )
        if any(_DEFERRED.search(line.folded) for line in window):
            deferred = True
    if best is None:
        if not deferred:
            deferred = any(_DEFERRED.search(line.folded) for line in lines if not line.toc)
        warnings = (
            [
                _(
                    "The RC leaves its award criteria to the consultation documents: no criteria were read."
                )
            ]
            if deferred
            else [_("No award criteria were found in the document.")]
        )
        return CriteriaResult([], {}, warnings, deferred=deferred)
    _score, items, info, span = best
    procedure, by_lot = _split_lots(items)
    warnings: list[str] = []
    criteria = _build(procedure, info["total"], warnings)
    lot_trees = {
        lot: _build(lot_items, None, warnings, lot=lot) for lot, lot_items in by_lot.items()
    }
    return CriteriaResult(
        criteria,
        lot_trees,
        warnings,
        ranked=info["ranked"],
        total=info["total"],
        window=span,
    )


def _window(lines: list[Line], start: int) -> list[Line]:
    first = lines[start]
    numbering = _NUMBERED.match(first.folded)
    depth = numbering.group(1).count(".") + 1 if numbering else None
    window = [first]
    for line in lines[start + 1 : start + 60]:
        if line.toc:
            break
        folded = line.folded
        has_weight = bool(_MENTION.search(folded)) or bool(_BARE_END.search(folded))
        if _HEADING_WORDS.match(folded) and not has_weight:
            break
        if _is_caps_heading(line.text) and not has_weight:
            break
        if depth is not None:
            numbered = _NUMBERED.match(folded)
            if numbered and numbered.group(1).count(".") + 1 <= depth and not has_weight:
                break
        if _OTHER_SECTION.match(folded) and len(folded) < 90 and not has_weight:
            break
        window.append(line)
    return window


def _is_caps_heading(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 4 and all(c.isupper() for c in letters) and len(text) < 120


# --- reading a window ------------------------------------------------------------------------------------


@dataclass
class _State:
    lots: list[str] = field(default_factory=list)
    ranked: bool = False
    ranked_sub: bool = False
    elements: bool = False
    total: float | None = None


def _parse_window(window: list[Line], state: _State) -> list[Item]:
    items: list[Item] = []
    for line in window:
        folded = line.folded
        lots = _lot_context(folded)
        if lots is not None:
            state.lots = lots
            state.elements = False
            if lots and not _MENTION.search(folded):
                continue
        scale = _SCALE.search(folded)
        if scale and not _looks_like_item(folded):
            # "Les offres sont notées sur 100 points", "(notation sur 100)": the total.
            # "La valeur technique est notée sur 20" only says how one criterion is marked.
            if re.search(r"\boffres?\b|notation|\btotal\b|note globale", folded):
                state.total = float(next(g for g in scale.groups() if g))
            continue
        if _RANKED.search(folded):
            if re.search(r"sous[- ]criteres?", folded):
                state.ranked_sub = True
            else:
                state.ranked = True
        opened = bool(_ELEMENTS.search(folded)) and not re.search(r"sous[- ]criteres?", folded)
        for item in _parse_line(line, state):
            if not state.lots:
                items.append(item)
            for lot in state.lots:  # one copy per lot it applies to
                copied = copy.deepcopy(item) if len(state.lots) > 1 else item
                copied.lot = lot
                items.append(copied)
        if opened:
            state.elements = True
    return items


def _lot_context(folded: str) -> list[str] | None:
    """The lots what follows applies to: ``[]`` for every lot ("Pour l'ensemble des
    lots"), ``["2"]`` for "Pour le lot 2 :", ``["1", "2", "3"]`` for "Pour les lots 1 à
    3 :"; None when the line says nothing of lots."""
    if _ALL_LOTS.search(folded):
        return []
    match = _LOT_CONTEXT.search(folded)
    if not match:
        return None
    rest = match.group("rest")
    numbers = [int(match.group("number"))]
    more = re.match(r"\s*(?:a|au|-)\s*(\d{1,2})\b", rest)
    if more and int(more.group(1)) > numbers[0]:
        numbers = list(range(numbers[0], int(more.group(1)) + 1))
        rest = rest[more.end() :]
    else:
        while extra := re.match(r"\s*(?:,|et)\s*(?:n\s*°?\s*)?(\d{1,2})\b", rest):
            numbers.append(int(extra.group(1)))
            rest = rest[extra.end() :]
    rest = rest.strip()
    if (
        rest.startswith(":")
        or not rest
        or re.search(r"criteres? (?:sont|seront)", rest)
        or (rest.startswith("-") and _MENTION.search(rest))
    ):
        return [str(n) for n in numbers]
    return None


def _looks_like_item(folded: str) -> bool:
    return bool(_marker(folded)[0]) and not re.match(r"^\W*(?:la|le|les|l')\s", folded)


def _marker(folded: str) -> tuple[str | None, int, int]:
    """(kind, depth, length) of the list marker at the start of ``folded``."""
    for kind, pattern in _MARKERS:
        match = pattern.match(folded)
        if match:
            depth = 0
            if kind == "num":
                depth = match.group("num").count(".") + 1
            if kind == "bullet":
                kind = f"bullet{match.group('char')}"
            return kind, depth, match.end()
    return None, 0, 0


def _strip_formulas(folded: str) -> str:
    """Formulas blanked out (same length): their numbers are not weights."""

    def blank(match: re.Match) -> str:
        return " " * (match.end() - match.start())

    return _FORMULA.sub(blank, folded)


def _parse_line(line: Line, state: _State) -> list[Item]:
    folded = _strip_formulas(line.folded)
    if not folded.strip() or _TOTAL.match(folded):
        return []
    kind, depth, marker_end = _marker(folded)
    prose = bool(
        re.match(
            r"^\W*(?:la|le|les|l'|il|elle|un|une|ce|cette|en cas|chaque|aucun|seul)\b",
            folded[marker_end:],
        )
    )
    mentions = list(_MENTION.finditer(folded))
    if prose and not kind and len(mentions) < 2 and not state.ranked and not state.elements:
        return []
    parts = _split_parts(folded, marker_end)
    items: list[Item] = []
    for part_start, part_end in parts:
        items.extend(_parse_part(line, folded, part_start, part_end, kind, depth, state, prose))
    return items


def _split_parts(folded: str, start: int) -> list[tuple[int, int]]:
    parts, depth, begin = [], 0, start
    for position in range(start, len(folded)):
        char = folded[position]
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif char == ";" and depth == 0:
            parts.append((begin, position))
            begin = position + 1
    parts.append((begin, len(folded)))
    return [(a, b) for a, b in parts if folded[a:b].strip()]


def _weight_of(match: re.Match) -> tuple[float | int | None, str | None, str]:
    if match.group("pond"):
        unit = "%" if match.group("punit") == "%" else "points"
        return number(match.group("pw")), unit, match.group("pw") + (" %" if unit == "%" else "")
    if match.group("half"):
        return 50, "%", "pour moitié"
    if match.group("note"):
        n = int(match.group("n"))
        return n, f"/{n}", f"note sur {n}"
    if match.group("slash"):
        n = int(match.group("s"))
        return n, f"/{n}", f"/{n}"
    value = number(match.group("w"))
    unit = match.group("unit")
    unit = "%" if unit.startswith(("%", "pour")) else "points"
    written = f"{match.group('w')} {'%' if unit == '%' else match.group('unit').strip()}"
    return value, unit, written


def _valid_mention(folded: str, match: re.Match) -> bool:
    if match.group("pond"):
        return 0 < number(match.group("pw")) <= 100
    if match.group("w"):
        value = number(match.group("w"))
        if value > 100 or value <= 0:
            return False
    if match.group("slash"):
        # "/" inside a name ("Pmin / P", "1/2") is not a note: only after a separator.
        before = folded[: match.start()].rstrip()
        return before.endswith((":", "-", "(")) or not before
    return True


def _parse_part(line, folded, start, end, kind, depth, state, prose) -> list[Item]:
    text = folded[start:end]
    mentions = [m for m in _MENTION.finditer(text) if _valid_mention(text, m)]
    if not mentions:
        bare = _BARE_END.search(text)
        if (bare and not prose and ":" in text[: bare.start() + 1]) or (
            bare and _short_label(text[: bare.start()])
        ):
            value = number(bare.group("w"))
            if 0 < value <= 100:
                name_text = line.text[start : start + bare.start() + 1]
                parent, child = _flattened(name_text)
                name = _clean_name(child if parent else name_text, state)
                if name:
                    item = _item(
                        line, state, name, value, "points", bare.group("w"), start, end, kind, depth
                    )
                    item.parent_name = parent
                    return [item]
        listed = kind or (state.elements and re.match(r"^\W*[-–•*▪◦·]", text))
        if (state.ranked or state.ranked_sub or state.elements) and listed:
            name = _clean_name(line.text[start:end], state)
            if name and len(name) < 150:
                item = _item(line, state, name, None, None, "", start, end, kind, depth)
                if state.elements and not state.ranked_sub:
                    item.element = True
                elif state.ranked_sub:
                    item.sub = True
                return [item]
        return []
    if len(mentions) == 1:
        mention = mentions[0]
        weight, unit, written = _weight_of(mention)
        before = line.text[start : start + mention.start()]
        after = line.text[start + mention.end() : end]
        parent, child = _flattened(before)
        name = _clean_name(child if parent else before, state)
        if not name and not prose:
            name = _clean_name(re.sub(r"^\W*[:\-–]\s*", "", after), state)
        if not name:
            return []
        item = _item(line, state, name, weight, unit, written, start, end, kind, depth)
        item.parent_name = parent
        return [item]
    # Several weights in one part: "Parent 60 % : a 25 pts, b 15 pts" or a sentence.
    return _sentence(line, folded, start, end, mentions, kind, depth, state)


def _short_label(text: str) -> bool:
    words = re.findall(r"\w+", text)
    return 0 < len(words) <= 8 and not re.match(r"^\W*(?:la|le|les|l'|il|elle|un|une)\s", text)


def _flattened(before: str) -> tuple[str | None, str]:
    """ "Valeur technique : méthodologie" → ("Valeur technique", "méthodologie")."""
    pieces = re.split(r"\s+:\s+|\s*:\s+", before.strip(), maxsplit=1)
    if len(pieces) == 2 and pieces[0].strip() and pieces[1].strip(" :"):
        head = fold(pieces[0])
        if re.search(r"critere|ponderation|^\W*dont|sous", head) or len(head) > 60:
            return None, before
        return tidy(pieces[0]), pieces[1]
    return None, before


def _sentence(line, folded, start, end, mentions, kind, depth, state) -> list[Item]:
    """Several weights in one part: "Parent 60 % : a 25 pts, b 15 pts", "la valeur
    technique pour 60 % et le prix pour 40 %", "…(60 %) appréciée au vu de la
    méthodologie (30 %), des moyens (20 %) et du planning (10 %), et du prix (40 %)",
    "50 %, appréciée pour moitié sur … et pour moitié sur …"."""
    text = folded[start:end]
    items: list[Item] = []
    cursor = 0
    parent: Item | None = None
    sub_sum = 0.0
    for position, mention in enumerate(mentions):
        next_start = mentions[position + 1].start() if position + 1 < len(mentions) else len(text)
        weight, unit, written = _weight_of(mention)
        between = text[cursor : mention.start()]
        if mention.group("half"):
            # The name follows: "pour moitié sur la méthodologie et …".
            raw = line.text[start + mention.end() : start + next_start]
            raw = re.sub(r"^\s*(?:sur|pour|de)\s+", "", raw)
            raw = re.sub(r"\s+et\s*$", "", raw.rstrip(" ,;."))
            name = _clean_name(raw, state, sentence=True)
            name_end = next_start
        else:
            raw = line.text[start + cursor : start + mention.start()]
            following = line.text[start + mention.end() : start + next_start]
            if _NAME_AFTER.match(fold(following)):
                # "… de 60 % pour la valeur technique et de 40 % pour le prix".
                name = _clean_name(_NAME_AFTER.sub("", following), state, sentence=True)
                name = re.sub(r"\s+et(?:\s+de)?$", "", name)
                name_end = next_start
            else:
                name = _clean_name(raw, state, sentence=True)
                name_end = mention.end()
            if not name:
                # Weight first ("60 % : valeur technique, …"): the name follows.
                following = line.text[start + mention.end() : start + next_start]
                name = _clean_name(re.sub(r"^\W*[:\-–]\s*", "", following), state, sentence=True)
                name_end = next_start
        if not name:
            cursor = mention.end()
            continue
        item = _item(
            line,
            state,
            name,
            weight,
            unit,
            written,
            start + cursor,
            start + name_end,
            kind if position == 0 else None,
            depth,
        )
        item.sentence = True
        opens = bool(_SUB_OPENERS.search(between)) or between.lstrip().startswith((":", "("))
        if (
            parent is None
            and items
            and (opens or mention.group("half"))
            and items[-1].weight is not None
        ):
            parent, sub_sum = items[-1], 0.0
        if parent is not None:
            limit, total = float(parent.weight), sub_sum + float(weight)
            # On the parent's own scale (global points), or in % of the parent (up to 100).
            if total <= limit + 0.01 or (
                unit == "%" and total <= 100.01 and not _reaches(sub_sum, limit)
            ):
                item.sub = True
                parent.children.append(item)
                sub_sum = total
                if _reaches(sub_sum, limit) or _reaches(sub_sum, 100):
                    parent = None
                cursor = name_end if mention.group("half") else mention.end()
                continue
            parent = None
        items.append(item)
        after = text[mention.end() : next_start]
        if after.lstrip().startswith((":", "(")) or _SUB_OPENERS.search(after):
            parent, sub_sum = item, 0.0
        cursor = name_end if mention.group("half") else mention.end()
    return items


_NAME_AFTER = re.compile(r"^\s*(?:pour|au titre de|affectee? a)\s+(?=(?:la|le|les|l')\s?)")


def _reaches(total: float, limit: float) -> bool:
    return abs(total - limit) < 0.01


def _item(line, state, name, weight, unit, written, start, end, kind, depth) -> Item:
    item = Item(name, weight, unit, written, line, start, end, marker=kind, depth=depth)
    if kind == "subcriterion" or kind == "dont":
        item.sub = True
    elif kind in ("criterion", "notice"):
        item.sub = False
    if state.elements and weight is None:
        item.element = True
    return item


def _clean_name(raw: str, state: _State, *, sentence: bool = False) -> str:
    text = re.sub(r"^\s*\d{1,2}\s{2,}", "", raw)  # a table's numbering column
    text = re.sub(r"[\s:\-–—=]+$", "", text)  # the separator before the weight
    text = _LOT_PREFIX.sub("", text)
    text = _NOTICE_NAME.sub("", text)
    folded = fold(text)
    for _round in range(2):  # "- sous-critère 1 : …", "• dont …": a marker after a marker
        kind, _depth, end = _marker(folded)
        if kind:
            text, folded = text[end:], folded[end:]
    if sentence or _INTRODUCED.search(folded):
        lead = _SENTENCE_LEAD.match(folded)
        if lead and lead.end() < len(folded):
            text, folded = text[lead.end() :], folded[lead.end() :]
            kind, _depth, end = _marker(folded)
            if kind:
                text, folded = text[end:], folded[end:]
    # Remarks in parentheses go ("Coût global (acquisition et exploitation)"); an
    # unclosed parenthesis only opens what follows.
    text = re.sub(r"\([^()]*\)", " ", text).replace("(", " ").replace(")", " ")
    folded = fold(text)
    cut = _NAME_CUTS.search(folded)
    if cut and cut.start() > 2:
        text = text[: cut.start()]
    text = re.sub(r"\s*(?:\.{2,}|…)+\s*", " ", text)
    text = re.sub(
        r"\s+(?:pour|a hauteur de|à hauteur de|soit|de|à|a)\s*$", "", text, flags=re.IGNORECASE
    )
    text = re.sub(r"\s+(?:et|ou)\s*$", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\s*(?:[:\-–—=]|ponderation|pondération)\s*$", "", text, flags=re.IGNORECASE)
    text = strip_articles(tidy(text))
    text = re.sub(
        r"^(?:le |la |les )?crit[èe]res?\s+(?:de |du |des )?(?=\w)", "", text, flags=re.IGNORECASE
    )
    text = strip_articles(tidy(text))
    if not re.search(r"[A-Za-zÀ-ÿ]{3,}", text):
        return ""
    if re.match(r"^(?:total|criteres?|ponderations?|note|soit)$", fold(text)):
        return ""
    return text


_LOT_PREFIX = re.compile(
    r"^\W*(?:pour\s+(?:le|les)\s+)?lots?\s*(?:n\s*°?\s*)?\d{1,2}(?:\s*(?:à|a|au|et|,)\s*\d{1,2})*\s*[:\-–—]\s*",
    re.IGNORECASE,
)

#: The European notice's "Critère de qualité – Nom : Valeur technique / Pondération : 60".
_NOTICE_NAME = re.compile(
    r"^\W*(?:crit[èe]re (?:de |du )?(?:qualit[ée]|co[ûu]t|prix)\s*[-–—]?\s*)?nom\s*:\s*",
    re.IGNORECASE,
)

#: A name introduced by a sentence ("Les offres seront jugées selon les critères
#: suivants : Prix …").
_INTRODUCED = re.compile(r"suivants?\s*:|:\s*\S.*:|\bselon les criteres\b")


# --- levels and lots ---------------------------------------------------------------------------------------


def _split_lots(items: list[Item]) -> tuple[list[Item], dict[str, list[Item]]]:
    procedure, by_lot = [], {}
    for item in items:
        if item.lot:
            by_lot.setdefault(item.lot, []).append(item)
        else:
            procedure.append(item)
    return procedure, by_lot


def _nest(items: list[Item]) -> list[Item]:
    """Items with their level decided: returns the top-level ones with their children."""
    top: list[Item] = []
    top_marker: str | None = "unset"
    min_depth = min((i.depth for i in items if i.marker == "num"), default=0)
    names = {}
    for item in items:
        if item.parent_name:
            parent = names.get(fold(strip_articles(item.parent_name)))
            if parent is not None:
                parent.children.append(item)
                continue
        if item.element:  # an element belongs to the criterion above it
            if top:
                top[-1].children.append(item)
            continue
        level_sub = item.sub
        if level_sub is None:
            if top_marker == "unset":
                level_sub = False
            elif item.marker == "num" and top_marker == "num":
                level_sub = item.depth > min_depth
            elif item.sentence and item.marker is None and top:
                level_sub = False
            else:
                level_sub = item.marker != top_marker and bool(top)
        if level_sub and top:
            top[-1].children.append(item)
            continue
        if top_marker == "unset" or (
            item.sub is False and top_marker not in ("criterion", "notice")
        ):
            top_marker = item.marker
        top.append(item)
        names[fold(strip_articles(item.name))] = item
    return _nest_by_sums(top)


def _nest_by_sums(top: list[Item]) -> list[Item]:
    """Flat criteria whose weights only add up once a run of them is read as the
    sub-criteria of the one before (a table flattened by the PDF)."""
    weighted = [i for i in top if i.weight is not None and not i.children]
    if len(weighted) < 3:
        return top
    units = {i.unit for i in top if i.weight is not None}
    total = sum(float(i.weight) for i in top if i.weight is not None)
    if len(units) != 1 or abs(total - 100) < 0.01:
        return top
    result: list[Item] = []
    position = 0
    changed = False
    while position < len(top):
        item = top[position]
        result.append(item)
        position += 1
        if item.weight is None or item.children:
            continue
        run, running = [], 0.0
        for follower in top[position:]:
            if follower.weight is None or follower.children:
                break
            running += float(follower.weight)
            run.append(follower)
            if abs(running - float(item.weight)) < 0.01:
                break
            if running > float(item.weight):
                run = []
                break
        if len(run) >= 2 and abs(running - float(item.weight)) < 0.01:
            remaining = total - running
            if abs(remaining - 100) < 0.01 or remaining < total:
                item.children.extend(run)
                position += len(run)
                changed = True
                total = remaining
    return result if changed and abs(total - 100) < 0.01 else top


def _to_criterion(item: Item, rank: int | None) -> Criterion:
    criterion = Criterion(
        name=item.name,
        weight=item.weight,
        unit=item.unit,
        written=item.written,
        rank=rank,
        kind=kind_of(item.name),
        source=item.source(),
    )
    ranked_children = [c for c in item.children if not c.element]
    all_unweighted = ranked_children and all(c.weight is None for c in ranked_children)
    for position, child in enumerate(item.children, start=1):
        node = _to_criterion(child, position if all_unweighted else None)
        if child.element:
            criterion.elements.append(node)
        else:
            criterion.subcriteria.append(node)
    return criterion


def _build(
    items: list[Item], total: float | None, warnings: list[str], lot: str | None = None
) -> list[Criterion]:
    if not items:
        return []
    top = _nest(items)
    unweighted = all(i.weight is None for i in top)
    criteria = [
        _to_criterion(item, position if unweighted else None)
        for position, item in enumerate(top, start=1)
    ]
    found = normalise(criteria, total=total)
    if lot:
        found = [_("Lot %(lot)s: %(warning)s") % {"lot": lot, "warning": w} for w in found]
    warnings.extend(found)
    return criteria
