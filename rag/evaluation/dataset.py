"""The evaluation's memoirs and questions, and the files built from the memoirs.

A memoir source is Markdown with a front matter (title, client, year, trade, format,
file): ``#``/``##`` headings, paragraphs, and pipe tables. ``format: docx`` builds a
real DOCX (headings in the *Heading* styles, tables as Word tables, the title in the
document's properties), so that the evaluation goes through the same extraction as an
upload; ``format: txt`` keeps the Markdown headings, which the TXT reader understands.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent
KINDS = ("exact", "client", "reworded", "typo")
NO_ANSWER = "none"


@dataclass
class MemoirSource:
    key: str
    title: str
    client: str
    year: int
    trade: str
    format: str
    filename: str
    body: str


@dataclass
class Question:
    id: str
    kind: str
    question: str
    snippets: list[str] = field(default_factory=list)
    memoirs: list[str] = field(default_factory=list)

    @property
    def answerable(self) -> bool:
        return self.kind != NO_ANSWER


def memoirs(limit: int | None = None) -> list[MemoirSource]:
    sources = []
    for path in sorted((ROOT / "memoirs").glob("*.md"))[:limit]:
        text = path.read_text(encoding="utf-8")
        match = re.match(r"---\n(.*?)\n---\n(.*)", text, re.DOTALL)
        if not match:
            raise ValueError(f"{path.name}: no front matter")
        meta = dict(line.split(": ", 1) for line in match.group(1).splitlines() if ": " in line)
        extension = "docx" if meta["format"] == "docx" else "txt"
        sources.append(
            MemoirSource(
                key=path.stem,
                title=meta["title"],
                client=meta["client"],
                year=int(meta["year"]),
                trade=meta["trade"],
                format=meta["format"],
                filename=meta.get("file") or f"{path.stem}.{extension}",
                body=match.group(2),
            )
        )
    return sources


def questions(limit: int | None = None) -> list[Question]:
    items = json.loads((ROOT / "questions.json").read_text(encoding="utf-8"))
    return [Question(**item) for item in items][:limit]


def build(source: MemoirSource) -> bytes:
    """The file a user would upload for ``source``."""
    if source.format == "txt":
        return source.body.encode("utf-8")
    return _docx(source)


def _docx(source: MemoirSource) -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.title = source.title
    lines = source.body.splitlines()
    paragraph: list[str] = []
    table: list[list[str]] = []

    def flush_paragraph() -> None:
        if paragraph:
            document.add_paragraph(" ".join(paragraph))
            paragraph.clear()

    def flush_table() -> None:
        if table:
            rows = [r for r in table if not all(set(c) <= set("-: ") for c in r)]
            grid = document.add_table(rows=len(rows), cols=len(rows[0]))
            grid.style = "Table Grid"
            for r, cells in enumerate(rows):
                for c, value in enumerate(cells):
                    grid.cell(r, c).text = value
            table.clear()

    for line in lines:
        stripped = line.strip()
        if stripped.startswith("|"):
            flush_paragraph()
            table.append([c.strip() for c in stripped.strip("|").split("|")])
            continue
        flush_table()
        heading = re.match(r"^(#{1,6})\s+(.+)$", stripped)
        if heading:
            flush_paragraph()
            document.add_heading(heading.group(2), level=len(heading.group(1)))
        elif not stripped:
            flush_paragraph()
        else:
            paragraph.append(stripped)
    flush_paragraph()
    flush_table()
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def normalize(text: str) -> str:
    """Text compared for relevance: NFC, one kind of apostrophe, spaces collapsed,
    lower case (snippets are matched inside passages)."""
    text = unicodedata.normalize("NFC", text).replace("’", "'").replace("\u00a0", " ")
    return re.sub(r"\s+", " ", text).strip().lower()
