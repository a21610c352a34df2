"""Per-company lexeme counts of the chunks' search documents (``chunk_lexemes``).

Each swap of a memoir's chunks subtracts the old chunks' lexemes and adds the new
ones', in the same transaction, for the memoir's company only; the counts give each
question word its weight (rag.fulltext.weigh)."""

from __future__ import annotations

import uuid

from django.db import connection

from config import cache_keys


def _documents_of(memoire_id) -> str:
    """The query ``ts_stat`` reads (it takes SQL text): the memoir's chunks' documents.
    The id is a uuid checked here, so it is safe in the text."""
    return (
        "SELECT search_document FROM document_chunks "
        f"WHERE memoire_id = '{uuid.UUID(str(memoire_id))}'"
    )


def remove_memoir(company_id, memoire_id) -> None:
    """Count the memoir's current chunks out (before they are deleted)."""
    documents = _documents_of(memoire_id)
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM chunk_lexemes l USING ts_stat(%s) s "
            "WHERE l.company_id = %s AND l.lexeme = s.word AND l.chunks <= s.ndoc",
            [documents, company_id],
        )
        cursor.execute(
            "UPDATE chunk_lexemes l SET chunks = l.chunks - s.ndoc FROM ts_stat(%s) s "
            "WHERE l.company_id = %s AND l.lexeme = s.word",
            [documents, company_id],
        )
    cache_keys.COMPANY_CHUNKS.delete(company=company_id)


def add_memoir(company_id, memoire_id) -> None:
    """Count the memoir's chunks in (once they are written)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO chunk_lexemes (company_id, lexeme, chunks) "
            "SELECT %s, word, ndoc FROM ts_stat(%s) "
            "ON CONFLICT (company_id, lexeme) DO UPDATE "
            "SET chunks = chunk_lexemes.chunks + EXCLUDED.chunks",
            [company_id, _documents_of(memoire_id)],
        )
    cache_keys.COMPANY_CHUNKS.delete(company=company_id)


def frequencies(company_id, lexemes: list[str]) -> tuple[int, dict[str, int]]:
    """``(chunks of the company, {lexeme: chunks holding it})`` for ``lexemes``."""
    total = cache_keys.COMPANY_CHUNKS.get_or_set(lambda: _count(company_id), company=company_id)
    if not lexemes or not total:
        return total, {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT lexeme, chunks FROM chunk_lexemes WHERE company_id = %s "
            "AND lexeme = ANY(%s::text[])",
            [company_id, lexemes],
        )
        return total, dict(cursor.fetchall())


def _count(company_id) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM document_chunks WHERE company_id = %s", [company_id])
        return cursor.fetchone()[0]
