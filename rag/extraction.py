"""Text of a memoir, as headings and paragraphs with their page, in document order.

PDF through pypdf (one page at a time; headings guessed from short title-like lines),
DOCX through python-docx (headings from the paragraph styles; tables where they stand,
one block per row, each cell named by its column's header), TXT as UTF-8 (or
Windows-1252, which older French files use) with Markdown-style ``#`` headings.

The document's title (DOCX and PDF properties, or a paragraph in the *Title* style)
is returned beside the blocks: indexing embeds and indexes it with every chunk.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _


class ExtractionError(Exception):
    """The file cannot be read as the document it claims to be (message for the user)."""


@dataclass(frozen=True)
class Block:
    text: str
    page: int | None = None
    heading_level: int = 0  # 0: a paragraph; 1, 2…: a heading of that level


@dataclass(frozen=True)
class Document:
    blocks: list[Block]
    title: str | None = None


# "1. Présentation", "2.3 Moyens humains", "ARTICLE 4 - DÉLAIS", "Chapitre II : …"
_NUMBERED_HEADING = re.compile(
    r"^(?:(?:\d+(?:\.\d+)*\.?)|(?:[IVXLC]+[.)])|(?:(?:article|chapitre|partie)\s+\w+))"
    r"\s*[-–:.)]?\s+\S",
    re.IGNORECASE,
)


def extract(data: bytes, kind: str) -> list[Block]:
    """Blocks of ``data``, a file of ``kind`` ("pdf", "docx" or "txt")."""
    return extract_document(data, kind).blocks


def extract_document(data: bytes, kind: str) -> Document:
    """Blocks and title of ``data``, a file of ``kind`` ("pdf", "docx" or "txt")."""
    if not data:
        raise ExtractionError(_("The file is empty."))
    readers = {"pdf": _pdf, "docx": _docx, "txt": _txt}
    if kind not in readers:
        raise ExtractionError(_("Unsupported document type: %(kind)s.") % {"kind": kind})
    document = readers[kind](data)
    if not any(b.text.strip() for b in document.blocks):
        raise ExtractionError(
            _("No text could be extracted (a scanned PDF needs OCR before it can be indexed).")
        )
    return document


def _clean(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _looks_like_heading(line: str) -> int:
    text = line.strip()
    if (
        not text
        or len(text) > 120
        or (text.endswith((".", ",", ";")) and not _NUMBERED_HEADING.match(text))
    ):
        return 0
    if _NUMBERED_HEADING.match(text):
        number = text.split()[0].rstrip(".:-–)")
        return min(number.count(".") + 1, 4) if number[:1].isdigit() else 1
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 4 and all(c.isupper() for c in letters):
        return 1
    return 0


def _paragraphs(text: str, page: int | None) -> list[Block]:
    blocks: list[Block] = []
    buffer: list[str] = []

    def flush() -> None:
        if buffer:
            blocks.append(Block(" ".join(buffer), page))
            buffer.clear()

    for raw in text.splitlines():
        line = re.sub(r"\s+", " ", raw).strip()
        if not line:
            flush()
            continue
        level = _looks_like_heading(line)
        if level:
            flush()
            blocks.append(Block(line, page, level))
        else:
            buffer.append(line)
    flush()
    return blocks


def _pdf(data: bytes) -> list[Block]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception as exc:
                raise ExtractionError(_("The PDF is password-protected.")) from exc
        blocks: list[Block] = []
        for number, page in enumerate(reader.pages, start=1):
            blocks.extend(_paragraphs(page.extract_text() or "", number))
        title = _clean(reader.metadata.title if reader.metadata else None) or None
        return Document(blocks, title)
    except ExtractionError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise ExtractionError(
            _("The PDF is corrupt or unreadable: %(error)s") % {"error": exc}
        ) from exc


def _docx(data: bytes) -> Document:
    import zipfile

    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ExtractionError(
            _("The DOCX file is corrupt or unreadable: %(error)s") % {"error": exc}
        ) from exc
    blocks: list[Block] = []
    title = _clean(document.core_properties.title) or None
    # Paragraphs and tables as they stand in the body (document.paragraphs and
    # document.tables list each kind apart, which moved every table to the end).
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            blocks.extend(_table_blocks(item))
            continue
        text = _clean(item.text)
        if not text:
            continue
        style = (item.style.name if item.style is not None else "") or ""
        match = re.match(r"(?:Heading|Titre)\s*(\d+)", style, re.IGNORECASE)
        if match:
            blocks.append(Block(text, None, int(match.group(1))))
        elif style.lower() in ("title", "titre"):
            if title is None:
                title = text
            else:
                blocks.append(Block(text, None, 1))
        else:
            blocks.append(Block(text, None, 0))
    return Document(blocks, title)


def _table_blocks(table) -> list[Block]:
    """One paragraph per row of ``table``. When the first row looks like a header (as
    many cells as the others, short labels), each cell of the other rows is named by
    its column: "Engin : grue à tour ; Capacité : 8 t", which reads (and embeds) as a
    sentence where "grue à tour | 8 t" does not."""
    rows = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            if cell._tc is previous:  # a merged cell repeats itself across its columns
                continue
            previous = cell._tc
            cells.append(_clean(cell.text))
        if any(cells):
            rows.append(cells)
    if not rows:
        return []
    header = rows[0]
    named = (
        len(rows) > 1
        and all(header)
        and all(len(h) <= 40 for h in header)
        and all(len(r) == len(header) for r in rows[1:])
    )
    if not named:
        return [Block(" | ".join(c for c in cells if c)) for cells in rows]
    blocks = []
    for cells in rows[1:]:
        pairs = [f"{h} : {c}" for h, c in zip(header, cells, strict=True) if c]
        if pairs:
            blocks.append(Block(" ; ".join(pairs) + "."))
    return blocks


def _txt(data: bytes) -> Document:
    if b"\x00" in data:
        raise ExtractionError(_("This is not a text file."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    blocks: list[Block] = []
    for part in re.split(r"(?m)^(#{1,6}\s+.+)$", text):
        header = re.match(r"^(#{1,6})\s+(.+)$", part.strip())
        if header:
            blocks.append(Block(header.group(2).strip(), None, len(header.group(1))))
        else:
            blocks.extend(_paragraphs(part, None))
    return Document(blocks)
