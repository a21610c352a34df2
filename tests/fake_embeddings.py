"""A fast, deterministic embedding backend for tests: hashed bag of word stems.

It only captures shared words, which is all most tests need; the real offline model
is exercised by its own test."""

from __future__ import annotations

import hashlib
import math
import re

from rag.embeddings.base import EmbeddingBackend


class HashingBackend(EmbeddingBackend):
    model_name = "test-hashing-64"
    dimensions = 64
    batch_size = 16

    def __init__(self, **options):
        self.calls = 0

    def _embed_batch(self, texts: list[str], *, query: bool = False) -> list[list[float]]:
        self.calls += 1
        return [self._vector(text) for text in texts]

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * self.dimensions
        for word in re.findall(r"\w{3,}", text.lower()):
            digest = hashlib.blake2b(word[:6].encode(), digest_size=4).digest()
            vector[int.from_bytes(digest, "big") % self.dimensions] += 1.0
        norm = math.sqrt(sum(x * x for x in vector)) or 1.0
        return [x / norm for x in vector]
