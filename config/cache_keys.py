"""Every key the project keeps in Django's cache, with its lifetime.

The cache only holds figures that are cheap to be slightly late about (counts that
choose a query plan, filter choices, facts read from the catalog). Each is read through
``get_or_set`` of its key here, so what is cached, for how long and why is in one
place. ``CACHES`` comes from ``CACHE_URL`` (config/settings.py): with several web or
worker processes, point it at a shared cache so that they agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache


@dataclass(frozen=True)
class CacheKey:
    template: str
    seconds: int
    purpose: str

    def key(self, **parts: Any) -> str:
        return self.template.format(**parts)

    def get_or_set(self, compute: Callable[[], Any], **parts: Any) -> Any:
        return cache.get_or_set(self.key(**parts), compute, self.seconds)

    def delete(self, **parts: Any) -> None:
        cache.delete(self.key(**parts))


LIST_FILTER_VALUES = CacheKey(
    "list-filter:{model}:{field}:{company}",
    300,
    "Distinct values of a column shown as a changelist filter.",
)
TOP_TAGS = CacheKey(
    "library:top-tags:{company}", 300, "A company's most used tags (the tag filter's choices)."
)
BLOCK_COUNT = CacheKey(
    "library:block-count:{company}",
    300,
    "A company's number of content blocks: chooses the plan of tag filters.",
)
VECTOR_INDEX = CacheKey(
    "rag:vector-index:{column}",
    60,
    "Kind and options of the vector index of a document_chunks vector column.",
)
PGVECTOR_VERSION = CacheKey("rag:pgvector-version", 600, "The server's pgvector version.")
CHUNK_COUNT = CacheKey(
    "rag:chunks:{company}:{model}",
    60,
    "A company's chunks embedded by one model: chooses exact or indexed vector search.",
)
CHUNK_TABLE_ROWS = CacheKey(
    "rag:chunk-table-rows",
    60,
    "Estimated rows of document_chunks: a company's share sets hnsw.ef_search.",
)
COMPANY_CHUNKS = CacheKey(
    "rag:company-chunks:{company}",
    600,
    "A company's number of chunks: with its lexeme counts, weighs question words.",
)

ALL = (
    LIST_FILTER_VALUES,
    TOP_TAGS,
    BLOCK_COUNT,
    VECTOR_INDEX,
    PGVECTOR_VERSION,
    CHUNK_COUNT,
    CHUNK_TABLE_ROWS,
    COMPANY_CHUNKS,
)
