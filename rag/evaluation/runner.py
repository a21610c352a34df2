"""Measure the memoir search on the labelled set.

Everything happens in one transaction that is rolled back: a throw-away company gets
the memoirs (built, stored in a temporary media folder and indexed by
``rag.indexing.index_memoire`` with the backend under test), a second company gets a
copy of every chunk (same texts, same vectors: the nearest possible neighbours of
each question), statistics are gathered (``ANALYZE``: the full-text weights), and each
question is asked in each mode. A passage is relevant when it contains one of the
question's snippets, or belongs to a memoir the question names; a snippet found in no
chunk is an error of the set, reported as such. The second company's passages are
counted: they must never appear.
"""

from __future__ import annotations

import math
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.test import override_settings

from config import storage
from rag import lexemes
from rag.embeddings import EmbeddingBackend, similarity_floor
from rag.evaluation import dataset
from rag.indexing import index_memoire
from rag.models import DocumentChunk, Memoire
from rag.search import FUSION, Fusion, search_passages

MODES = ("hybrid", "vector", "text")
K = 10


class _Rollback(Exception):
    pass


class QueryCache(EmbeddingBackend):
    """The backend under test, with each question embedded once (the modes and the
    sweeps reuse it); the time of the first embedding is recorded."""

    def __init__(self, backend: EmbeddingBackend):
        self.backend = backend
        self.model_name = backend.model_name
        self.dimensions = backend.dimensions
        self.batch_size = backend.batch_size
        self.similarity_floor = backend.similarity_floor
        self.vectors: dict[str, list[float]] = {}
        self.seconds: dict[str, float] = {}

    def embed(self, texts):
        return self.backend.embed(texts)

    def embed_query(self, text: str) -> list[float]:
        if text not in self.vectors:
            started = time.perf_counter()
            self.vectors[text] = self.backend.embed_query(text)
            self.seconds[text] = time.perf_counter() - started
        return self.vectors[text]


@dataclass
class Outcome:
    question: dataset.Question
    mode: str
    ranks: list[int]  # 1-based ranks of the relevant passages among those returned
    returned: int
    relevant_total: int
    seconds: float
    foreign: int = 0  # passages of the other company (must stay 0)

    def recall(self, k: int) -> float:
        return 1.0 if any(r <= k for r in self.ranks) else 0.0

    def mrr(self, k: int = 10) -> float:
        first = min((r for r in self.ranks if r <= k), default=None)
        return 1.0 / first if first else 0.0

    def ndcg(self, k: int = 10) -> float:
        dcg = sum(1.0 / math.log2(r + 1) for r in self.ranks if r <= k)
        ideal = sum(1.0 / math.log2(i + 2) for i in range(min(self.relevant_total, k)))
        return dcg / ideal if ideal else 0.0


@dataclass
class Report:
    model: str
    memoirs: int
    chunks: int
    questions: int
    indexing_seconds: float
    outcomes: list[Outcome] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    embed_ms: list[float] = field(default_factory=list)
    sweep: list[dict] = field(default_factory=list)
    floors: list[dict] = field(default_factory=list)
    floor: float = 0.0

    def select(self, mode: str, kind: str | None = None) -> list[Outcome]:
        return [
            o
            for o in self.outcomes
            if o.mode == mode
            and o.question.answerable
            and (kind is None or o.question.kind == kind)
        ]

    def metrics(self, mode: str, kind: str | None = None) -> dict:
        chosen = self.select(mode, kind)
        if not chosen:
            return {}
        times = sorted(o.seconds * 1000 for o in chosen)
        return {
            "questions": len(chosen),
            "recall@5": statistics.fmean(o.recall(5) for o in chosen),
            "recall@10": statistics.fmean(o.recall(10) for o in chosen),
            "mrr@10": statistics.fmean(o.mrr(10) for o in chosen),
            "ndcg@10": statistics.fmean(o.ndcg(10) for o in chosen),
            "p50_ms": _percentile(times, 50),
            "p95_ms": _percentile(times, 95),
        }

    def abstentions(self) -> dict:
        """Hybrid: questions without answer that returned nothing, and answerable
        ones that wrongly returned nothing."""
        hybrid = [o for o in self.outcomes if o.mode == "hybrid"]
        none = [o for o in hybrid if not o.question.answerable]
        answerable = [o for o in hybrid if o.question.answerable]
        return {
            "no_answer": len(none),
            "no_answer_silent": sum(1 for o in none if o.returned == 0),
            "answerable": len(answerable),
            "answerable_silent": sum(1 for o in answerable if o.returned == 0),
        }

    @property
    def foreign(self) -> int:
        return sum(o.foreign for o in self.outcomes)


def _percentile(values: Sequence[float], pct: float) -> float:
    if not values:
        return 0.0
    index = min(len(values) - 1, max(0, math.ceil(pct / 100 * len(values)) - 1))
    return values[index]


#: Fusions tried by ``--sweep`` (RRF k, vector weight, text weight).
SWEEP = [Fusion(k, 1.0, text) for k in (10, 20, 40, 60) for text in (0.3, 0.5, 0.7, 1.0, 1.5)]
FLOORS = (0.0, 0.76, 0.78, 0.80, 0.81, 0.82, 0.83, 0.84)


def evaluate(
    backend: EmbeddingBackend,
    *,
    memoir_limit: int | None = None,
    question_limit: int | None = None,
    sweep: bool = False,
    log: Callable[[str], None] = lambda message: None,
) -> Report:
    """Index the set with ``backend``, ask every question in every mode, roll back."""
    from tenants.models import Company

    sources = dataset.memoirs(memoir_limit)
    questions = dataset.questions()
    keys = {s.key for s in sources}
    # With fewer memoirs, only the questions they can answer (and those without answer).
    questions = [q for q in questions if not q.answerable or _answerable_by(q, sources, keys)][
        :question_limit
    ]
    cached = QueryCache(backend)
    report: Report | None = None
    with tempfile.TemporaryDirectory() as media, override_settings(MEDIA_ROOT=media):
        try:
            with transaction.atomic():
                company = Company.objects.create(name="Évaluation de la recherche")
                other = Company.objects.create(name="Autre entreprise (isolation)")
                started = time.perf_counter()
                memoir_keys = {}
                for source in sources:
                    memoire = _index(company, source, backend)
                    memoir_keys[memoire.pk] = source.key
                    log(f"  indexed {source.filename}")
                indexing = time.perf_counter() - started
                chunks = DocumentChunk.objects.filter(memoire__company=company).count()
                _copy_to(other, company)
                report = Report(
                    model=backend.model_name,
                    memoirs=len(sources),
                    chunks=chunks,
                    questions=len(questions),
                    indexing_seconds=indexing,
                    floor=similarity_floor(backend),
                )
                relevant = _relevant_chunks(company, questions, memoir_keys, report)
                for question in questions:
                    for mode in MODES:
                        report.outcomes.append(
                            _ask(company, question, mode, cached, relevant, memoir_keys)
                        )
                report.embed_ms = sorted(v * 1000 for v in cached.seconds.values())
                report.floors = _floors(company, questions, cached, relevant)
                if sweep:
                    report.sweep = _sweep(company, questions, cached, relevant, log)
                raise _Rollback
        except _Rollback:
            pass
    return report


def _answerable_by(question, sources, keys) -> bool:
    if question.memoirs and set(question.memoirs) & keys:
        return True
    texts = [dataset.normalize(s.body) for s in sources]
    return any(
        dataset.normalize(snippet) in text for snippet in question.snippets for text in texts
    )


def _index(company, source: dataset.MemoirSource, backend) -> Memoire:
    memoire = Memoire(
        company=company,
        filename=source.filename,
        client=source.client,
        year=source.year,
        project_type=source.trade,
    )
    memoire.storage_path = default_storage.save(
        storage.memoir_path(company.pk, memoire.pk, source.filename),
        ContentFile(dataset.build(source)),
    )
    memoire.save()
    index_memoire(company, memoire.pk, backend=backend)
    return memoire


def _copy_to(other, company) -> None:
    """The other company gets the same memoirs and chunks (texts and vectors)."""
    for memoire in Memoire.objects.for_company(company):
        copy = Memoire.objects.create(
            company=other,
            filename=memoire.filename,
            storage_path=memoire.storage_path,
            client=memoire.client,
            indexed=True,
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO document_chunks "
                "(memoire_id, company_id, content, embedding, embedding_384, metadata) "
                "SELECT %s, %s, content, embedding, embedding_384, metadata FROM document_chunks "
                "WHERE memoire_id = %s",
                [copy.pk, other.pk, memoire.pk],
            )
        lexemes.add_memoir(other.pk, copy.pk)


def _relevant_chunks(company, questions, memoir_keys, report) -> dict:
    """``{question id: {chunk ids}}``; a label found nowhere is an error of the set."""
    chunks = [
        (pk, memoire_id, dataset.normalize(content))
        for pk, memoire_id, content in DocumentChunk.objects.filter(
            memoire__company=company
        ).values_list("pk", "memoire_id", "content")
    ]
    relevant = {}
    for question in questions:
        if not question.answerable:
            continue
        found = set()
        for snippet in question.snippets:
            hits = {pk for pk, _m, text in chunks if dataset.normalize(snippet) in text}
            keys_present = set(memoir_keys.values())
            if (not hits and not question.memoirs) or (
                not hits and set(question.memoirs) <= keys_present
            ):
                report.errors.append(f"{question.id}: snippet not found: {snippet!r}")
            found |= hits
        for pk, memoire_id, _text in chunks:
            if memoir_keys.get(memoire_id) in question.memoirs:
                found.add(pk)
        if not found:
            report.errors.append(f"{question.id}: no relevant chunk")
        relevant[question.id] = found
    return relevant


def _ask(company, question, mode, backend, relevant, memoir_keys, **options) -> Outcome:
    started = time.perf_counter()
    passages, _facts = search_passages(
        company, question.question, k=K, backend=backend, mode=mode, **options
    )
    # Hybrid is asked first: its time includes embedding the question.
    seconds = time.perf_counter() - started
    wanted = relevant.get(question.id, set())
    ranks = [rank for rank, p in enumerate(passages, start=1) if p.chunk_id in wanted]
    foreign = sum(1 for p in passages if p.memoire_id not in memoir_keys)
    return Outcome(question, mode, ranks, len(passages), len(wanted), seconds, foreign)


def _floors(company, questions, backend, relevant) -> list[dict]:
    """For each candidate similarity floor: hybrid recall@5, and how many questions
    without answer (and with one) return nothing."""
    rows = []
    for floor in FLOORS:
        outcomes = [
            _ask(company, q, "hybrid", backend, relevant, {}, floor=floor) for q in questions
        ]
        answerable = [o for o in outcomes if o.question.answerable]
        none = [o for o in outcomes if not o.question.answerable]
        rows.append(
            {
                "floor": floor,
                "recall@5": statistics.fmean(o.recall(5) for o in answerable) if answerable else 0,
                "mrr@10": statistics.fmean(o.mrr(10) for o in answerable) if answerable else 0,
                "no_answer_silent": sum(1 for o in none if o.returned == 0),
                "no_answer": len(none),
                "answerable_silent": sum(1 for o in answerable if o.returned == 0),
            }
        )
    return rows


def _sweep(company, questions, backend, relevant, log) -> list[dict]:
    rows = []
    answerable = [q for q in questions if q.answerable]
    for fusion in SWEEP:
        outcomes = [
            _ask(company, q, "hybrid", backend, relevant, {}, fusion=fusion) for q in answerable
        ]
        rows.append(
            {
                "fusion": fusion,
                "recall@5": statistics.fmean(o.recall(5) for o in outcomes),
                "recall@10": statistics.fmean(o.recall(10) for o in outcomes),
                "mrr@10": statistics.fmean(o.mrr(10) for o in outcomes),
                "reworded@5": statistics.fmean(
                    o.recall(5) for o in outcomes if o.question.kind == "reworded"
                )
                if any(o.question.kind == "reworded" for o in outcomes)
                else 0.0,
                "current": fusion == FUSION,
            }
        )
        log(f"  sweep {fusion}: recall@5 {rows[-1]['recall@5']:.3f}")
    return rows
