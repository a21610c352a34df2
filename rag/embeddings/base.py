from __future__ import annotations

import math
from collections.abc import Sequence

from rag.models import EMBEDDING_DIMENSIONS


class EmbeddingError(Exception):
    """The backend could not embed: the message is meant for the user."""


class EmbeddingBackend:
    """Turns texts into vectors of ``dimensions`` floats.

    Retrieval models such as e5 are trained with different inputs for the two sides
    of a search: ``embed`` is for passages (what is stored and searched), and
    ``embed_query`` for a user's question. A backend whose model wants textual
    markers sets ``passage_prefix`` / ``query_prefix``; one whose engine takes the side
    as a flag reads ``query`` in ``_embed_batch``. Callers never add prefixes.
    """

    #: Identifies the vectors' space; stored in each chunk's metadata.
    model_name: str = ""
    dimensions: int = 0
    batch_size: int = 64
    #: Prepended to each passage / query before it is embedded.
    passage_prefix: str = ""
    query_prefix: str = ""
    #: Cosine similarity below which a passage found by meaning alone is not shown: each
    #: model spreads its similarities differently (e5's unrelated passages score ≈ 0.75,
    #: MiniLM's ≈ 0.1), so the floor belongs to the model. ``RAG_SIMILARITY_FLOOR``
    #: overrides it.
    similarity_floor: float = 0.0

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors for the passages ``texts``, in order (batched as the backend needs)."""
        return self._embed_all([self.passage_prefix + t for t in texts], query=False)

    def embed_query(self, text: str) -> list[float]:
        """The vector of a search question."""
        return self._embed_all([self.query_prefix + text], query=True)[0]

    def _embed_all(self, texts: list[str], *, query: bool) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            result = self._embed_batch(batch, query=query)
            if len(result) != len(batch):
                raise EmbeddingError(
                    f"{self.model_name}: {len(result)} vectors for {len(batch)} texts."
                )
            for vector in result:
                if len(vector) != self.dimensions:
                    raise EmbeddingError(
                        f"{self.model_name} returned {len(vector)} dimensions, "
                        f"{self.dimensions} expected: check RAG_EMBEDDING_OPTIONS."
                    )
                if not all(math.isfinite(x) for x in vector):
                    raise EmbeddingError(f"{self.model_name} returned a non-finite value.")
            vectors.extend(result)
        return vectors

    def _embed_batch(self, texts: list[str], *, query: bool) -> list[list[float]]:
        raise NotImplementedError


def pad(vector: Sequence[float], size: int = EMBEDDING_DIMENSIONS) -> list[float]:
    """Zero-pad ``vector`` to the column width: dot products and norms, hence cosine
    similarity, are unchanged."""
    if len(vector) > size:
        raise EmbeddingError(f"A {len(vector)}-dimension vector does not fit in {size}.")
    return [*vector, *([0.0] * (size - len(vector)))]
