from __future__ import annotations

import math
from collections.abc import Sequence

from rag.models import EMBEDDING_DIMENSIONS


class EmbeddingError(Exception):
    """The backend could not embed: the message is meant for the user."""


class EmbeddingBackend:
    """Turns texts into vectors of ``dimensions`` floats."""

    #: Identifies the vectors' space; stored in each chunk's metadata.
    model_name: str = ""
    dimensions: int = 0
    batch_size: int = 64

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors for ``texts``, in order (the backend batches as it needs)."""
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            result = self._embed_batch(batch)
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

    def embed_query(self, text: str) -> list[float]:
        return self.embed([text])[0]

    def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        raise NotImplementedError


def pad(vector: Sequence[float], size: int = EMBEDDING_DIMENSIONS) -> list[float]:
    """Zero-pad ``vector`` to the column width: dot products and norms, hence cosine
    similarity, are unchanged."""
    if len(vector) > size:
        raise EmbeddingError(f"A {len(vector)}-dimension vector does not fit in {size}.")
    return [*vector, *([0.0] * (size - len(vector)))]
