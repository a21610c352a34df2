"""An RC file as pages of text, and the pages as the logical lines the parser reads.

PDF through pypdf page by page, DOCX through python-docx (explicit page breaks start a
new page; tables come out a row per line, cells side by side, as PDF tables do), TXT
as UTF-8 or Windows-1252 with form feeds between pages. Lines repeated at the top or
bottom of most pages (running headers, "Page 3 sur 12") are blanked out, keeping every
offset where it was; the table of contents is marked so that its "Jugement des offres
…… 7" is never taken for the article itself.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from config.filetypes import DOCX, PDF, TXT, sniff
from projects.rc.text import clean_page_text, fold

#: What an RC may be.
RC_KINDS = (PDF, DOCX, TXT)

#: Below this many letters per page on average, a PDF is taken for a scan.
SCANNED_LETTERS_PER_PAGE = 40


class UnreadableDocument(Exception):
    """The file cannot be analysed; the message is for the user (French)."""


@dataclass(frozen=True)
class Page:
    number: int | None  # 1-based; None for a DOCX without page breaks
    text: str


@dataclass
class Line:
    """One logical line: physical lines joined where the layout wrapped a sentence.

    ``text`` is ``page.text[start:end]`` with line breaks as spaces (same length), and
    ``folded`` its ``fold``: an offset in either is an offset in the page.
    """

    index: int
    page: int | None
    start: int
    end: int
    text: str
    folded: str
    paragraph_start: bool = False  # a blank line (or a page) came before it
    toc: bool = False
    indent: int = 0


@dataclass
class Document:
    pages: list[Page]
    kind: str
    lines: list[Line] = field(default_factory=list)

    @property
    def page_count(self) -> int:
        return len(self.pages)

    def excerpt(self, page: int | None, start: int, end: int, context: int = 0) -> str:
        text = self._page_text(page)
        return re.sub(r"\s+", " ", text[max(0, start - context) : end + context]).strip()

    def _page_text(self, page: int | None) -> str:
        for p in self.pages:
            if p.number == page:
                return p.text
        return ""


# --- reading files -----------------------------------------------------------------------


def read(data: bytes) -> Document:
    """The document in ``data`` (PDF, DOCX or TXT, told by its content)."""
    if not data:
        raise UnreadableDocument(_("The file is empty."))
    kind = sniff(data[:8192], data)
    if kind not in RC_KINDS:
        raise UnreadableDocument(
            _("An RC must be a PDF, DOCX or text file; this file is not one of them.")
        )
    pages = {"pdf": _pdf, "docx": _docx, "txt": _txt}[kind.name](data)
    pages = [Page(p.number, clean_page_text(p.text)) for p in pages]
    letters = sum(sum(c.isalpha() for c in p.text) for p in pages)
    if kind.name == "pdf" and letters < SCANNED_LETTERS_PER_PAGE * max(1, len(pages)):
        raise UnreadableDocument(
            _(
                "This PDF has no text layer (a scanned document?): it cannot be analysed, "
                "as the application does no OCR. Upload the RC as a PDF with text, a DOCX "
                "or a TXT file, or enter the criteria by hand on the analysis page."
            )
        )
    if not letters:
        raise UnreadableDocument(_("The document contains no text to analyse."))
    pages = remove_running_lines(pages)
    document = Document(pages, kind.name)
    document.lines = logical_lines(pages, wrapped=kind.name == "pdf")
    mark_table_of_contents(document.lines)
    return document


def _pdf(data: bytes) -> list[Page]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception as exc:
                raise UnreadableDocument(_("The PDF is password-protected.")) from exc
        return [
            Page(number, page.extract_text() or "")
            for number, page in enumerate(reader.pages, start=1)
        ]
    except UnreadableDocument:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise UnreadableDocument(
            _("The PDF is corrupt or unreadable: %(error)s") % {"error": exc}
        ) from exc


def _docx(data: bytes) -> list[Page]:
    import docx
    from docx.oxml.ns import qn

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise UnreadableDocument(
            _("The DOCX file is corrupt or unreadable: %(error)s") % {"error": exc}
        ) from exc
    pages: list[list[str]] = [[]]
    body = document.element.body
    for child in body.iterchildren():
        if child.tag == qn("w:p"):
            breaks = [br for br in child.iter(qn("w:br")) if br.get(qn("w:type")) == "page"]
            before = child.find(f"{qn('w:pPr')}/{qn('w:pageBreakBefore')}")
            if before is not None and pages[-1]:
                pages.append([])
            text = "".join(t.text or "" for t in child.iter(qn("w:t")))
            pages[-1].append(text)
            if breaks:
                pages.append([])
        elif child.tag == qn("w:tbl"):
            for row in child.iter(qn("w:tr")):
                cells = []
                for cell in row.iter(qn("w:tc")):
                    cells.append(
                        " ".join(
                            "".join(t.text or "" for t in p.iter(qn("w:t")))
                            for p in cell.iter(qn("w:p"))
                        ).strip()
                    )
                pages[-1].append("  ".join(c for c in cells if c))
    texts = ["\n".join(lines) for lines in pages if any(line.strip() for line in lines)]
    if len(texts) <= 1:
        return [Page(1, texts[0] if texts else "")]
    return [Page(n, text) for n, text in enumerate(texts, start=1)]


def _txt(data: bytes) -> list[Page]:
    if b"\x00" in data:
        raise UnreadableDocument(_("This is not a text file."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return [Page(n, part) for n, part in enumerate(text.split("\f"), start=1)]


# --- running headers and footers ------------------------------------------------------------

_PAGE_NUMBER_LINE = re.compile(r"^\s*(?:page\s*)?\d{1,3}\s*(?:/|sur|of)?\s*\d{0,3}\s*$")


def _edge_lines(text: str, depth: int = 3) -> list[tuple[int, int]]:
    """(start, end) of the first and last ``depth`` non-blank lines of a page."""
    spans, offset = [], 0
    for raw in text.split("\n"):
        if raw.strip():
            spans.append((offset, offset + len(raw)))
        offset += len(raw) + 1
    return spans[:depth] + spans[-depth:] if len(spans) > 2 * depth else spans


def _shape(line: str) -> str:
    return re.sub(r"\d+", "#", fold(line).strip())


def remove_running_lines(pages: list[Page]) -> list[Page]:
    """Blank out (with spaces: offsets stay) lines found at the edge of most pages, and
    bare page numbers."""
    if len(pages) < 3:
        return [Page(p.number, _blank_page_numbers(p.text)) for p in pages]
    counts: Counter[str] = Counter()
    for page in pages:
        counts.update({_shape(page.text[s:e]) for s, e in _edge_lines(page.text)})
    threshold = max(3, len(pages) // 2)
    running = {shape for shape, n in counts.items() if n >= threshold and len(shape) > 2}
    cleaned = []
    for page in pages:
        chars = list(page.text)
        for start, end in _edge_lines(page.text):
            if _shape(page.text[start:end]) in running:
                chars[start:end] = " " * (end - start)
        cleaned.append(Page(page.number, _blank_page_numbers("".join(chars))))
    return cleaned


def _blank_page_numbers(text: str) -> str:
    out, offset = [], 0
    for raw in text.split("\n"):
        out.append(" " * len(raw) if _PAGE_NUMBER_LINE.match(raw) and raw.strip() else raw)
        offset += len(raw) + 1
    return "\n".join(out)


# --- logical lines ---------------------------------------------------------------------------

_BULLET = re.compile(
    r"^\s*(?:[-–—•*▪◦o·>]\s|\d{1,2}(?:\.\d{1,2})*\s*[.)°]\s|\d{1,2}(?:\.\d{1,2})+\s|[a-z]\s*\)\s|[ivx]{1,4}\s*[.)]\s)",
    re.IGNORECASE,
)
_ENDS_SENTENCE = re.compile(r"[.;:!?)]\s*$")


def _continues(previous: str, current: str, *, full: int) -> bool:
    """Whether ``current`` is the rest of ``previous``'s sentence, wrapped by the layout:
    it starts in lower case, or ``previous`` (its last physical line) ran to the full
    width of the page's text and ends without punctuation."""
    if not previous.strip() or not current.strip():
        return False
    if _ENDS_SENTENCE.search(previous) or _BULLET.match(current):
        return False
    first = current.lstrip()[0]
    if first.islower() or first == ",":
        return True
    last = previous.rsplit("\n", 1)[-1].rstrip()
    return (
        full >= 60
        and len(last) >= 0.8 * full
        and bool(_OPEN_END.search(fold(last)))
        and not _HEADING_START.match(current)
        and not _looks_caps(current)
    )


#: A line the layout cut mid-phrase ends on a word no sentence ends with.
_OPEN_END = re.compile(
    r"(?:,|\b(?:et|ou|de|du|des|d'|la|le|les|l'|a|au|aux|en|pour|par|sur|sous|dans|entre|avec"
    r"|sans|un|une|que|qui|dont|son|sa|ses|leur|leurs|ce|cette|ces|est|sont|n°))$"
)


_HEADING_START = re.compile(r"^\s*(?:article|section|chapitre|titre|annexe|lot)\b", re.IGNORECASE)


def _looks_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 4 and all(c.isupper() for c in letters)


def logical_lines(pages: list[Page], *, wrapped: bool = False) -> list[Line]:
    """``wrapped``: the lines were cut by a layout (PDF), not written as they are."""
    lines: list[Line] = []
    for page in pages:
        text = page.text
        full = max((len(raw.rstrip()) for raw in text.split("\n")), default=0) if wrapped else 0
        offset, pending, blank_before = 0, None, True
        for raw in text.split("\n"):
            start, end = offset, offset + len(raw)
            offset = end + 1
            if not raw.strip():
                if pending is not None:
                    lines.append(pending)
                    pending = None
                blank_before = True
                continue
            stripped_start = start + (len(raw) - len(raw.lstrip()))
            if pending is not None and _continues(
                text[pending.start : pending.end], raw, full=full
            ):
                pending.end = end
                pending.text = text[pending.start : end].replace("\n", " ")
                continue
            if pending is not None:
                lines.append(pending)
            pending = Line(
                index=0,
                page=page.number,
                start=stripped_start,
                end=end,
                text=text[stripped_start:end],
                folded="",
                paragraph_start=blank_before,
                indent=len(raw) - len(raw.lstrip()),
            )
            blank_before = False
        if pending is not None:
            lines.append(pending)
    for index, line in enumerate(lines):
        line.index = index
        line.text = line.text.rstrip()
        line.end = line.start + len(line.text)
        line.folded = fold(line.text)
    return lines


# --- table of contents -------------------------------------------------------------------------

_TOC_TITLE = re.compile(r"^\W*(sommaire|table des matieres|table des articles)\W*$")
_TOC_ENTRY = re.compile(r"(?:\.{3,}|…|\s{2,}|\s)\s*\d{1,3}\s*$")
_DOT_LEADERS = re.compile(r"\.{4,}\s*\d{1,3}\s*$")


def mark_table_of_contents(lines: list[Line]) -> None:
    """Lines of a table of contents: everything with dot leaders and a page number, and
    the entries after a "Sommaire" title that end with a page number."""
    in_toc = False
    for line in lines:
        if _TOC_TITLE.match(line.folded):
            line.toc, in_toc = True, True
            continue
        if _DOT_LEADERS.search(line.folded):
            line.toc = True
            continue
        if in_toc:
            if _TOC_ENTRY.search(line.folded):
                line.toc = True
            else:
                in_toc = False
