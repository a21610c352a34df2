"""``manage.py evaluate_rc``: score the RC analysis on the labelled corpus (per-field
precision, recall and exact match, criteria, sub-criteria and weights, an overall
score), for the offline parser and, when a language model is configured, the LLM
backend; and time the parser on the 40-page PDF."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand

from llm.errors import LLMError
from projects.rc import evaluation
from projects.rc.backends import analyse_bytes, resolve

TARGETS = {
    "criteria F1": 0.95,
    "weights exact": 0.95,
    "sub-criteria F1": 0.90,
    "deadline exact": 0.95,
}


def _pct(value) -> str:
    return "—" if value is None else f"{value:.3f}"


class Command(BaseCommand):
    help = "Score the RC analysis backends on the corpus and time the parser on a 40-page PDF."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--backend",
            action="append",
            choices=("parser", "llm"),
            help="Backend(s) to score (default: the parser, and the LLM when LLM_PROVIDER is set).",
        )
        parser.add_argument("--runs", type=int, default=5, help="Timed runs on the 40-page PDF.")
        parser.add_argument(
            "--mistakes", action="store_true", help="List every value that does not match."
        )
        parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")

    def handle(self, *args, backend, runs, mistakes, **options) -> None:
        as_json = options["json"]
        backends = backend or (["parser", "llm"] if resolve("auto") == "llm" else ["parser"])
        samples = evaluation.samples()
        if not samples:
            self.stderr.write("Aucun document annoté dans le corpus.")
            sys.exit(1)
        figures = {}
        for name in backends:
            try:
                figures[name] = self._backend(name, samples, mistakes, as_json)
            except LLMError as exc:
                self.stderr.write(str(exc))
                sys.exit(1)
        if evaluation.BENCHMARK_PDF.is_file() and runs > 0:
            timing = evaluation.timing(
                lambda data: analyse_bytes(data, backend="parser"), evaluation.BENCHMARK_PDF, runs
            )
            from pypdf import PdfReader

            pages = len(PdfReader(str(evaluation.BENCHMARK_PDF)).pages)
            figures["timing"] = {"file": evaluation.BENCHMARK_PDF.name, "pages": pages, **timing}
            if not as_json:
                self.stdout.write(
                    f"\nParser on {evaluation.BENCHMARK_PDF.name} ({pages} pages): "
                    f"median {timing['median']:.3f} s, max {timing['max']:.3f} s over {runs} runs "
                    f"(target ≤ 2 s)."
                )
        if as_json:
            self.stdout.write(json.dumps(figures, ensure_ascii=False, indent=2))

    def _backend(self, name: str, samples, mistakes: bool, as_json: bool) -> dict:
        analyse = lambda data: analyse_bytes(data, backend=name).to_output()  # noqa: E731
        results = {}
        held_out = [s for s in samples if s.holdout]
        subsets = (
            [("development", [s for s in samples if not s.holdout]), ("held-out", held_out)]
            if held_out
            else []
        )
        for label, subset in [*subsets, ("all", samples)]:
            if not subset:
                continue
            report = evaluation.evaluate(analyse, subset)
            results[label] = self._figures(report)
            if not as_json:
                self._print(
                    f"{name} — {label} ({len(subset)} documents)",
                    report,
                    mistakes and label == "all",
                )
        return results

    def _figures(self, report: evaluation.Report) -> dict:
        fields = {
            field: {
                "precision": counts.precision,
                "recall": counts.recall,
                "f1": counts.f1,
                "exact": counts.exact_rate,
            }
            for field, counts in report.fields.items()
        }
        return {
            "documents": report.samples,
            "fields": fields,
            "weights_exact": report.weights_exact,
            "shares_exact": report.shares_exact,
            "invented_criteria": report.invented,
            "documents_without_criteria": report.none_samples,
            "overall": report.overall(),
            "failures": report.failures,
            "seconds_per_document": sum(report.seconds) / max(1, len(report.seconds)),
        }

    def _print(self, title: str, report: evaluation.Report, mistakes: bool) -> None:
        out = self.stdout.write
        out(f"\n## {title}\n")
        out("| field | precision | recall | F1 | exact |")
        out("|---|---|---|---|---|")
        for field in (
            *evaluation.SCALAR_FIELDS,
            "required_contents",
            "criteria",
            "subcriteria",
            "elements",
        ):
            counts = report.counts(field)
            out(
                f"| {field} | {_pct(counts.precision)} | {_pct(counts.recall)} | "
                f"{_pct(counts.f1)} | {_pct(counts.exact_rate)} |"
            )
        out(f"| weights (value and unit) | | | | {_pct(report.weights_exact)} |")
        out(f"| shares (±0.0005) | | | | {_pct(report.shares_exact)} |")
        achieved = {
            "criteria F1": report.counts("criteria").f1,
            "weights exact": report.weights_exact,
            "sub-criteria F1": report.counts("subcriteria").f1,
            "deadline exact": report.counts("deadline").exact_rate,
        }
        out("")
        for target, value in TARGETS.items():
            got = achieved[target]
            mark = "✅" if got is not None and got >= value else "❌"
            out(f"{mark} {target}: {_pct(got)} (target ≥ {value})")
        mark = "✅" if report.invented == 0 else "❌"
        out(
            f"{mark} invented criteria on the {report.none_samples} documents that state none: "
            f"{report.invented}"
        )
        out(f"Overall score: {report.overall():.3f}")
        seconds = sum(report.seconds) / max(1, len(report.seconds))
        out(f"Mean time per document: {seconds * 1000:.0f} ms")
        for failure in report.failures:
            out(f"FAILED {failure}")
        if mistakes:
            for mistake in report.mistakes:
                out(f"- {mistake}")
