"""Measure the memoir search on the labelled set of rag/evaluation.

``python manage.py evaluate_search`` indexes the set's memoirs for a throw-away
company with the configured embedding backend (or ``--backend``), asks each question
in hybrid, vector-only and full-text-only mode, and prints recall@5, recall@10,
MRR@10 and nDCG@10 per mode and per kind of question, with latencies, how the
questions without answer fared, and the similarity floors. Nothing is kept: it all
runs in a transaction rolled back at the end. ``--sweep`` also tries fusion weights.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string

from rag.embeddings import SHORTCUTS, EmbeddingError, get_backend
from rag.evaluation import dataset, runner

#: Targets of issue 12 (hybrid mode, questions with an answer).
TARGETS = {"recall@5": 0.90, "mrr@10": 0.80, "reworded recall@5": 0.75}


class Command(BaseCommand):
    help = "Measure the memoir search (recall, MRR, nDCG, latency) on the labelled set."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--memoirs", type=int, help="Only the first N memoirs.")
        parser.add_argument("--questions", type=int, help="Only the first N questions.")
        parser.add_argument(
            "--backend", help="Embedding backend (shortcut or dotted path); default: settings."
        )
        parser.add_argument("--sweep", action="store_true", help="Also try fusion weights.")
        parser.add_argument("--json", dest="json_out", help="Also write the figures there.")

    def handle(self, *args, memoirs, questions, backend, sweep, json_out, **options):
        if memoirs is not None and memoirs < 1:
            raise CommandError("--memoirs doit valoir au moins 1.")
        if questions is not None and questions < 1:
            raise CommandError("--questions doit valoir au moins 1.")
        try:
            chosen = import_string(SHORTCUTS.get(backend, backend))() if backend else get_backend()
        except ImportError:
            raise CommandError(f"Modèle d'embeddings inconnu : {backend}.") from None
        try:
            report = runner.evaluate(
                chosen,
                memoir_limit=memoirs,
                question_limit=questions,
                sweep=sweep,
                log=lambda message: self.stderr.write(message),
            )
        except EmbeddingError as exc:
            raise CommandError(f"Embeddings impossibles : {exc}") from None
        self.stdout.write(render(report))
        if json_out:
            with open(json_out, "w", encoding="utf-8") as handle:
                json.dump(as_dict(report), handle, indent=2, default=str)
        if report.errors:
            raise CommandError(
                f"Jeu d'évaluation incohérent : {len(report.errors)} étiquette(s) introuvable(s)."
            )
        if report.foreign:
            raise CommandError(
                f"{report.foreign} passage(s) d'une autre entreprise renvoyé(s) : isolation rompue."
            )


def _row(label: str, metrics: dict) -> str:
    if not metrics:
        return f"| {label} | — | — | — | — | — | — | — |"
    return (
        f"| {label} | {metrics['questions']} | {metrics['recall@5']:.2f} | "
        f"{metrics['recall@10']:.2f} | {metrics['mrr@10']:.2f} | {metrics['ndcg@10']:.2f} | "
        f"{metrics['p50_ms']:.1f} | {metrics['p95_ms']:.1f} |"
    )


def render(report: runner.Report) -> str:
    lines = [
        f"Model {report.model}: {report.memoirs} memoirs, {report.chunks} chunks indexed in "
        f"{report.indexing_seconds:.1f} s ({report.chunks / max(report.indexing_seconds, 1e-9):.1f} chunks/s), "
        f"{report.questions} questions.",
        "",
        "| mode / kind | questions | recall@5 | recall@10 | MRR@10 | nDCG@10 | p50 ms | p95 ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for mode in runner.MODES:
        lines.append(_row(f"**{mode}**", report.metrics(mode)))
        for kind in dataset.KINDS:
            lines.append(_row(f"{mode} · {kind}", report.metrics(mode, kind)))
    hybrid = report.metrics("hybrid")
    reworded = report.metrics("hybrid", "reworded")
    if hybrid:
        checks = [
            ("recall@5", hybrid["recall@5"]),
            ("mrr@10", hybrid["mrr@10"]),
            ("reworded recall@5", reworded.get("recall@5", 0.0)),
        ]
        lines.append("")
        for name, value in checks:
            ok = "✅" if value >= TARGETS[name] else "❌"
            lines.append(f"{ok} hybrid {name} {value:.2f} (target ≥ {TARGETS[name]:.2f})")
        lines.append(
            f"{'✅' if report.foreign == 0 else '❌'} passages of another company returned: "
            f"{report.foreign}"
        )
    abstain = report.abstentions()
    lines += [
        "",
        f"Latency: hybrid p50/p95 includes embedding the question "
        f"(embedding alone: p50 {runner._percentile(report.embed_ms, 50):.1f} ms); "
        "vector and text modes reuse that embedding.",
        f"Similarity floor {report.floor:.2f}: {abstain['no_answer_silent']}/{abstain['no_answer']} "
        f"questions without answer return nothing; {abstain['answerable_silent']}/"
        f"{abstain['answerable']} questions with one wrongly return nothing.",
        "",
        "| floor | hybrid recall@5 | MRR@10 | without answer: nothing returned | with answer: nothing returned |",
        "|---|---|---|---|---|",
    ]
    for row in report.floors:
        lines.append(
            f"| {row['floor']:.2f} | {row['recall@5']:.2f} | {row['mrr@10']:.2f} | "
            f"{row['no_answer_silent']}/{row['no_answer']} | {row['answerable_silent']} |"
        )
    if report.sweep:
        lines += [
            "",
            "| RRF k | vector weight | text weight | recall@5 | recall@10 | MRR@10 | reworded recall@5 |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in report.sweep:
            fusion = row["fusion"]
            mark = " (current)" if row["current"] else ""
            lines.append(
                f"| {fusion.k}{mark} | {fusion.vector_weight:g} | {fusion.text_weight:g} | "
                f"{row['recall@5']:.2f} | {row['recall@10']:.2f} | {row['mrr@10']:.2f} | "
                f"{row['reworded@5']:.2f} |"
            )
    if report.errors:
        lines += ["", "Errors of the set:", *[f"- {e}" for e in report.errors]]
    misses = [
        o
        for o in report.outcomes
        if o.mode == "hybrid" and o.question.answerable and not o.recall(5)
    ]
    if misses:
        lines += ["", "Hybrid misses (no relevant passage in the top 5):"]
        lines += [f"- {o.question.id} ({o.question.kind}): {o.question.question}" for o in misses]
    return "\n".join(lines) + "\n"


def as_dict(report: runner.Report) -> dict:
    return {
        "model": report.model,
        "memoirs": report.memoirs,
        "chunks": report.chunks,
        "questions": report.questions,
        "indexing_seconds": report.indexing_seconds,
        "metrics": {
            mode: {
                "all": report.metrics(mode),
                **{kind: report.metrics(mode, kind) for kind in dataset.KINDS},
            }
            for mode in runner.MODES
        },
        "abstentions": report.abstentions(),
        "floors": report.floors,
        "foreign": report.foreign,
        "errors": report.errors,
    }
