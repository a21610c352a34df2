"""What a file really is, from its first bytes and structure, never from its name.

Uploads are checked against an allow-list of kinds; a renamed executable, an HTML
page saved as ``.pdf`` or a ZIP posing as a DOCX is refused.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import BinaryIO


@dataclass(frozen=True)
class FileKind:
    name: str  # "pdf", "docx", "xlsx", "png", "jpeg", "gif", "webp", "txt"
    mime_type: str
    extension: str


PDF = FileKind("pdf", "application/pdf", ".pdf")
DOCX = FileKind(
    "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"
)
XLSX = FileKind(
    "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"
)
PNG = FileKind("png", "image/png", ".png")
JPEG = FileKind("jpeg", "image/jpeg", ".jpg")
GIF = FileKind("gif", "image/gif", ".gif")
WEBP = FileKind("webp", "image/webp", ".webp")
TXT = FileKind("txt", "text/plain", ".txt")

#: What the content library accepts (CVs, certificates, datasheets, photos…).
LIBRARY_KINDS = (PDF, DOCX, XLSX, PNG, JPEG, GIF, WEBP)
#: What can be indexed as a memoir.
MEMOIR_KINDS = (PDF, DOCX, TXT)

_EXECUTABLE_SIGNATURES = (b"MZ", b"\x7fELF", b"#!", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe")


def sniff(head: bytes, data: bytes | BinaryIO | None = None) -> FileKind | None:
    """The kind of a file from its first bytes (``head``, 8 KiB is plenty); ``data``
    (the whole file, as bytes or a seekable file, which is read from its directory
    only) is needed to tell DOCX from XLSX from any other ZIP."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"PK\x03\x04"):
        return _office_kind(data if data is not None else head)
    if head.startswith(_EXECUTABLE_SIGNATURES):
        return None
    if _is_text(head):
        return TXT
    return None


def _office_kind(data: bytes | BinaryIO) -> FileKind | None:
    source = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
    try:
        source.seek(0)
        with zipfile.ZipFile(source) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return None


def _is_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a multi-byte character cut by the 8 KiB window
            text = head[: exc.start].decode("utf-8")
        else:
            try:
                text = head.decode("cp1252")
            except UnicodeDecodeError:
                return False
    printable = sum(c.isprintable() or c in "\r\n\t" for c in text)
    return printable / max(len(text), 1) > 0.97
