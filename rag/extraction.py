"""Text of a memoir, as headings and paragraphs with their page.

PDF through pypdf (one page at a time; headings guessed from short title-like lines),
DOCX through python-docx (headings from the paragraph styles), TXT as UTF-8 (or
Windows-1252, which older French files use) with Markdown-style ``#`` headings.
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


# "1. Présentation", "2.3 Moyens humains", "ARTICLE 4 - DÉLAIS", "Chapitre II : …"
_NUMBERED_HEADING = re.compile(
    r"^(?:(?:\d+(?:\.\d+)*\.?)|(?:[IVXLC]+[.)])|(?:(?:article|chapitre|partie)\s+\w+))"
    r"\s*[-–:.)]?\s+\S",
    re.IGNORECASE,
)


def extract(data: bytes, kind: str) -> list[Block]:
    """Blocks of ``data``, a file of ``kind`` ("pdf", "docx" or "txt")."""
    if not data:
        raise ExtractionError(_("The file is empty."))
    readers = {"pdf": _pdf, "docx": _docx, "txt": _txt}
    if kind not in readers:
        raise ExtractionError(_("Unsupported document type: %(kind)s.") % {"kind": kind})
    blocks = readers[kind](data)
    if not any(b.text.strip() for b in blocks):
        raise ExtractionError(
            _("No text could be extracted (a scanned PDF needs OCR before it can be indexed).")
        )
    return blocks


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
        return blocks
    except ExtractionError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise ExtractionError(
            _("The PDF is corrupt or unreadable: %(error)s") % {"error": exc}
        ) from exc


def _docx(data: bytes) -> list[Block]:
    import zipfile

    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ExtractionError(
            _("The DOCX file is corrupt or unreadable: %(error)s") % {"error": exc}
        ) from exc
    blocks: list[Block] = []
    for paragraph in document.paragraphs:
        text = re.sub(r"\s+", " ", paragraph.text).strip()
        if not text:
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        match = re.match(r"(?:Heading|Titre)\s*(\d+)", style, re.IGNORECASE)
        if match:
            blocks.append(Block(text, None, int(match.group(1))))
        elif style.lower() in ("title", "titre"):
            blocks.append(Block(text, None, 1))
        else:
            blocks.append(Block(text, None, 0))
    for table in document.tables:
        for row in table.rows:
            cells = [re.sub(r"\s+", " ", c.text).strip() for c in row.cells]
            line = " | ".join(c for c in cells if c)
            if line:
                blocks.append(Block(line, None, 0))
    return blocks


def _txt(data: bytes) -> list[Block]:
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
    return blocks
