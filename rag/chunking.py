"""Split a memoir's blocks into retrieval chunks that follow its structure.

A chunk never spans two sections: each heading starts a new chunk and is recorded
as the chunk's heading path ("2. Moyens › 2.1 Moyens matériels"), which indexing embeds
and indexes with it, so a heading is never cut from its first paragraph. Within a
section, paragraphs are packed up to
``RAG_CHUNK_SIZE`` characters; a paragraph longer than that is cut at sentence
boundaries (at words if it must). Consecutive chunks of a section overlap by about
``RAG_CHUNK_OVERLAP`` characters (whole sentences) so a passage cut in two is still
found whole in one of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.extraction import Block

_SENTENCE_END = re.compile(r"(?<=[.!?…;:])\s+(?=[«\"(\[A-ZÀ-ÖØ-Þ0-9-])")


@dataclass
class Chunk:
    content: str
    page: int | None
    heading: str | None
    index: int = 0


def context_line(title: str | None, heading: str | None) -> str:
    """What situates a chunk in its memoir: the memoir's title and the heading path."""
    return " › ".join(part for part in (title, heading) if part)


def embedded_text(content: str, title: str | None, heading: str | None) -> str:
    """The text embedded for a chunk: its context line, then its content."""
    context = context_line(title, heading)
    return f"{context}\n\n{content}" if context else content


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text) if s.strip()]


def _pieces(text: str, size: int) -> list[str]:
    """``text`` in pieces of at most ``size`` characters, cut between sentences."""
    if len(text) <= size:
        return [text]
    pieces, current = [], ""
    for sentence in _sentences(text):
        while len(sentence) > size:  # one huge "sentence": cut at a word boundary
            cut = sentence.rfind(" ", 0, size)
            cut = cut if cut > size // 2 else size
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if current and len(current) + 1 + len(sentence) > size:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        pieces.append(current)
    return pieces


def _tail(text: str, overlap: int) -> str:
    """The last whole sentences of ``text`` making up at most ``overlap`` characters."""
    if overlap <= 0:
        return ""
    tail = ""
    for sentence in reversed(_sentences(text)):
        if len(tail) + len(sentence) + 1 > overlap:
            break
        tail = f"{sentence} {tail}".strip()
    return tail


def chunk_blocks(blocks: list[Block], size: int = 1000, overlap: int = 150) -> list[Chunk]:
    if size < 100:
        raise ValueError("The chunk size must be at least 100 characters.")
    overlap = max(0, min(overlap, size // 2))
    chunks: list[Chunk] = []
    heading: str | None = None
    headings: dict[int, str] = {}
    current, page, previous = "", None, ""

    def emit() -> None:
        nonlocal current, page, previous
        if current.strip():
            chunks.append(Chunk(current.strip(), page, heading, len(chunks)))
            previous = current
        current, page = "", None

    for block in blocks:
        if block.heading_level:
            emit()
            previous = ""
            headings = {lvl: h for lvl, h in headings.items() if lvl < block.heading_level}
            headings[block.heading_level] = block.text
            heading = " › ".join(headings[lvl] for lvl in sorted(headings))
            continue
        for piece in _pieces(block.text, size - overlap if overlap else size):
            if current and len(current) + 2 + len(piece) > size:
                emit()
            if not current:
                carried = _tail(previous, overlap) if previous else ""
                current = f"{carried}\n\n{piece}" if carried else piece
                page = block.page
            else:
                current = f"{current}\n\n{piece}"
    emit()
    return chunks
