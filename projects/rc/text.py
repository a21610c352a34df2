"""Text helpers shared by the parser: folding for matching, numbers, names.

``fold`` maps each character to exactly one character (lower case, accents and
ligatures' marks dropped, typographic apostrophes and dashes made plain), so an offset
found in the folded text is the same offset in the original: that is how every value
keeps its source span.
"""

from __future__ import annotations

import re
import unicodedata

_SPECIAL = {
    "’": "'",
    "‘": "'",
    "ʼ": "'",
    "`": "'",
    "´": "'",
    "–": "-",
    "—": "-",
    "‑": "-",
    "−": "-",
    "\u00a0": " ",
    "\u202f": " ",
    "\u2009": " ",
    "\t": " ",
    "œ": "o",
    "Œ": "o",
    "æ": "a",
    "Æ": "a",
    "«": '"',
    "»": '"',
    "“": '"',
    "”": '"',
    "…": ".",
    "×": "x",
    "º": "°",
}


def _fold_char(char: str) -> str:
    if char in _SPECIAL:
        return _SPECIAL[char]
    decomposed = unicodedata.normalize("NFD", char)
    base = decomposed[0] if decomposed else char
    return base.lower() if len(base.lower()) == 1 else base


_FOLD_TABLE: dict[str, str] = {}


def fold(text: str) -> str:
    """Lower case, no accents, plain apostrophes and dashes; same length as ``text``."""
    out = []
    for char in text:
        folded = _FOLD_TABLE.get(char)
        if folded is None:
            folded = _FOLD_TABLE[char] = _fold_char(char)
        out.append(folded)
    return "".join(out)


def clean_page_text(text: str) -> str:
    """What the extraction gives, made regular before any offset is taken: ligatures
    spelled out, soft hyphens dropped, words cut at a line end joined again."""
    text = (
        text.replace("\ufb01", "fi")
        .replace("\ufb02", "fl")
        .replace("\ufb00", "ff")
        .replace("\ufb03", "ffi")
        .replace("\u00ad", "")
        .replace("\r\n", "\n")
        .replace("\r", "\n")
    )
    # "méthodo-\nlogie" → "méthodologie\n" (a word cut by the layout, not a compound:
    # the next line starts in lower case).
    return re.sub(r"(\w)-\n(\s*)([a-zà-ÿ])", r"\1\3\n\2", text)


def number(text: str) -> float | int:
    """``"12,5"`` → 12.5, ``"40"`` → 40."""
    value = float(text.replace(",", ".").replace(" ", ""))
    return int(value) if value.is_integer() else value


_LEADING = re.compile(
    r"^(?:(?:et|ou|ainsi que|puis|enfin|avec|sur|pour|en ce qui concerne)\s+)*"
    r"(?:(?:de la|de l'|des|du|de|d'|les|la|le|l'|une|un|ses|sa|son|leurs|leur)\s*)?",
)


def strip_articles(name: str) -> str:
    """``"et du planning"`` → ``"planning"``, ``"la méthodologie"`` → ``"méthodologie"``."""
    folded = fold(name)
    match = _LEADING.match(folded)
    cut = match.end() if match else 0
    # Only whole words: "Délai" must not lose its "de".
    if cut and cut < len(name) and folded[cut - 1] not in " '":
        cut = 0
    return name[cut:].strip()


def tidy(text: str) -> str:
    """Collapse spaces and trim punctuation left at either end."""
    text = re.sub(r"\s+", " ", text).strip()
    return text.strip(" ;,:.-–—•*·▪/|")


def normalised(text: str | None) -> str:
    """The comparison key of a name or value (evaluation, merging LLM and parser):
    folded, punctuation as spaces, leading articles dropped."""
    if text is None:
        return ""
    folded = fold(str(text))
    folded = re.sub(r"\bn\s*°\s*", "", folded)
    folded = re.sub(r"[^\w]+", " ", folded).strip()
    folded = re.sub(r"^(?:(?:de la|de l|des|du|de|d|la|le|les|l)\s+)+", "", folded)
    return re.sub(r"\s+", " ", folded)
