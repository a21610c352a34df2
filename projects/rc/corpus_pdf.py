"""Realistic PDFs made from the corpus' texts (``manage.py build_rc_corpus``).

What a real RC's PDF does to its text is reproduced here on purpose: a running header
and footer on every page ("… – Règlement de la consultation", "Page 3 / 9"), lines
wrapped at the page's width, and weight columns drawn at their own position (a table
the text extraction flattens back into one line). Helvetica with WinAnsi encoding, so
French accents, œ, € and typographic quotes survive extraction.
"""

from __future__ import annotations

import io
import textwrap
import zlib

PAGE_WIDTH, PAGE_HEIGHT = 595, 842
MARGIN_X, TOP, BOTTOM = 56, 790, 60
FONT_SIZE, LEADING = 10, 13
WRAP = 92  # characters per line at 10 pt Helvetica on A4 with these margins
WEIGHT_COLUMN_X = 440

_WEIGHT_ROW = __import__("re").compile(r"^(\s*)(.{3,70}?)\s+(\d{1,3}\s*(?:%|points|pts))\s*$")


def _encode(text: str) -> bytes:
    data = text.encode("cp1252", errors="replace")
    return data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _layout(text: str) -> list[list[tuple[float, str]]]:
    """Pages of (x, text) lines: the text's own pages (form feeds) split further when
    they overflow, long lines wrapped, weight rows as two columns."""
    per_page = int((TOP - BOTTOM) / LEADING) - 2
    pages: list[list[tuple[float, str]]] = []
    for source_page in text.split("\f"):
        lines: list[tuple[float, str]] = []
        for raw in source_page.split("\n"):
            indent = len(raw) - len(raw.lstrip())
            x = MARGIN_X + 12 * min(indent, 6) / 3
            row = _WEIGHT_ROW.match(raw)
            if row and len(raw.strip()) < 80:
                lines.append((x, row.group(2)))
                lines.append((-WEIGHT_COLUMN_X, row.group(3)))  # same baseline
                continue
            if not raw.strip():
                lines.append((x, ""))
                continue
            for wrapped in textwrap.wrap(raw.strip(), WRAP - indent) or [""]:
                lines.append((x, wrapped))
        page, used = [], 0
        for entry in lines:
            if entry[0] >= 0:
                used += 1
            if used > per_page:
                pages.append(page)
                page, used = [], 1
            page.append(entry)
        pages.append(page)
    return [p for p in pages if any(t.strip() for _x, t in p)]


def make_pdf(text: str, *, header: str, footer: str) -> bytes:
    pages = _layout(text)
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    pages_id = len(objects) + 1 + 2 * len(pages)
    page_ids = []
    for number, page in enumerate(pages, start=1):
        parts = [
            b"BT /F1 8 Tf 1 0 0 1 %d %d Tm (%s) Tj ET" % (MARGIN_X, 815, _encode(header)),
            b"BT /F1 8 Tf 1 0 0 1 %d %d Tm (%s) Tj ET"
            % (MARGIN_X, 30, _encode(f"{footer} – Page {number} / {len(pages)}")),
        ]
        y = TOP
        for x, line in page:
            if x < 0:  # a weight column: on the previous line's baseline
                parts.append(
                    b"BT /F1 %d Tf 1 0 0 1 %d %d Tm (%s) Tj ET"
                    % (FONT_SIZE, -x, y + LEADING, _encode(line))
                )
                continue
            if line:
                parts.append(
                    b"BT /F1 %d Tf 1 0 0 1 %.1f %d Tm (%s) Tj ET" % (FONT_SIZE, x, y, _encode(line))
                )
            y -= LEADING
        stream = zlib.compress(b"\n".join(parts))
        content = add(
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream)
            + stream
            + b"\nendstream"
        )
        page_ids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d %d] "
                b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
                % (pages_id, PAGE_WIDTH, PAGE_HEIGHT, font, content)
            )
        )
    kids = b" ".join(b"%d 0 R" % i for i in page_ids)
    assert add(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(page_ids))) == pages_id
    catalog = add(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id)
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
        % (len(objects) + 1, catalog, xref)
    )
    return out.getvalue()


#: The DOCX's dates (its properties and its ZIP entries), so that making it again gives
#: the same bytes.
DOCX_DATE = (2025, 1, 6, 9, 0, 0)


def make_docx(text: str) -> bytes:
    """A DOCX of the text: a paragraph per line, a page break at each form feed, the
    short capitalised lines as headings; the same bytes for the same text."""
    import datetime
    import zipfile

    import docx
    from docx.enum.text import WD_BREAK

    document = docx.Document()
    moment = datetime.datetime(*DOCX_DATE)
    document.core_properties.created = document.core_properties.modified = moment
    document.core_properties.last_printed = moment
    for number, page in enumerate(text.split("\f")):
        if number:
            document.paragraphs[-1].add_run().add_break(WD_BREAK.PAGE)
        for raw in page.split("\n"):
            line = raw.strip()
            if not line:
                continue
            letters = [c for c in line if c.isalpha()]
            if letters and all(c.isupper() for c in letters) and len(line) < 90:
                document.add_heading(line, level=1)
            else:
                document.add_paragraph(line)
    saved = io.BytesIO()
    document.save(saved)
    saved.seek(0)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(saved) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in sorted(source.infolist(), key=lambda e: e.filename):
            fixed = zipfile.ZipInfo(entry.filename, date_time=DOCX_DATE)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, source.read(entry.filename))
    return out.getvalue()
