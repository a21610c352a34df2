"""Scoring an RC backend against the labelled corpus (``manage.py evaluate_rc``).

The corpus (``projects/rc/corpus/``) is RCs and notices written for this purpose, each
``NAME.txt`` (and some ``NAME.pdf`` / ``NAME.docx`` made from it by ``manage.py
build_rc_corpus``) with its expected answer in ``NAME.expected.json``, in the shape
``analyse_rc`` prints. ``holdout/`` holds texts written after the parser was built and
never used to tune it: their scores are printed apart.

Values are compared after ``normalised`` (case, accents, punctuation, leading
articles); weights exactly, with their unit; shares to ±0.0005. Scores are micro
averages over all samples: for a field, precision is the share of values given that
are right, recall the share of expected values found, exact the share of samples
where the value (null included) is right.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from projects.rc.text import normalised

CORPUS = Path(__file__).resolve().parent / "corpus"
HOLDOUT = CORPUS / "holdout"
BENCHMARK_PDF = CORPUS / "benchmark" / "rc-40-pages.pdf"
SCALAR_FIELDS = (
    "buyer",
    "subject",
    "lot",
    "location",
    "deadline",
    "page_limit",
    "site_visit",
    "variants_allowed",
)
DOCUMENT_SUFFIXES = (".txt", ".pdf", ".docx")


@dataclass(frozen=True)
class Sample:
    path: Path
    expected: dict
    holdout: bool

    @property
    def name(self) -> str:
        return self.path.name


def samples(root: Path = CORPUS) -> list[Sample]:
    """Every document of the corpus with an expected answer (its stem's)."""
    found = []
    for directory, holdout in (
        (root, False),
        (root / "holdout", True),
        (root / "benchmark", False),
    ):
        if not directory.is_dir():
            continue
        for path in sorted(directory.iterdir()):
            if path.suffix not in DOCUMENT_SUFFIXES:
                continue
            expected = path.with_name(path.name.split(".")[0] + ".expected.json")
            if expected.is_file():
                found.append(Sample(path, json.loads(expected.read_text("utf-8")), holdout))
    return found


# --- counting --------------------------------------------------------------------------------


@dataclass
class Counts:
    given: int = 0  # values the backend gave (not null)
    expected: int = 0  # values the corpus expects (not null)
    right: int = 0  # given and right
    exact: int = 0  # samples where the value (null included) is right
    samples: int = 0

    def add(self, other: Counts) -> None:
        for name in ("given", "expected", "right", "exact", "samples"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def precision(self) -> float | None:
        return self.right / self.given if self.given else None

    @property
    def recall(self) -> float | None:
        return self.right / self.expected if self.expected else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None or not (p + r):
            return None if p is None and r is None else 0.0
        return 2 * p * r / (p + r)

    @property
    def exact_rate(self) -> float | None:
        return self.exact / self.samples if self.samples else None


@dataclass
class Report:
    fields: dict[str, Counts] = field(default_factory=dict)
    weights_right: int = 0
    weights_compared: int = 0
    shares_right: int = 0
    shares_compared: int = 0
    invented: int = 0  # criteria given for samples that expect none
    none_samples: int = 0
    failures: list[str] = field(default_factory=list)
    mistakes: list[str] = field(default_factory=list)
    samples: int = 0
    seconds: list[float] = field(default_factory=list)

    def counts(self, name: str) -> Counts:
        return self.fields.setdefault(name, Counts())

    @property
    def weights_exact(self) -> float | None:
        return self.weights_right / self.weights_compared if self.weights_compared else None

    @property
    def shares_exact(self) -> float | None:
        return self.shares_right / self.shares_compared if self.shares_compared else None

    def overall(self) -> float:
        """The mean of every field's exact-match rate, the criteria and sub-criteria
        F1 and the weights' exactness."""
        parts = [c.exact_rate for n, c in self.fields.items() if n in SCALAR_FIELDS]
        parts += [
            self.counts("required_contents").f1,
            self.counts("criteria").f1,
            self.counts("subcriteria").f1,
            self.weights_exact,
        ]
        values = [p for p in parts if p is not None]
        return sum(values) / len(values) if values else 0.0


def _key(value: Any) -> Any:
    if isinstance(value, str):
        return normalised(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _scalar(report: Report, name: str, got: Any, want: Any, sample: str) -> None:
    counts = report.counts(name)
    counts.samples += 1
    right = _key(got) == _key(want)
    if got is not None:
        counts.given += 1
    if want is not None:
        counts.expected += 1
    if got is not None and right:
        counts.right += 1
    if right:
        counts.exact += 1
    else:
        report.mistakes.append(f"{sample}: {name} = {got!r}, expected {want!r}")


def _set(report: Report, name: str, got: dict, want: dict, sample: str) -> None:
    counts = report.counts(name)
    counts.samples += 1
    counts.given += len(got)
    counts.expected += len(want)
    counts.right += len(got.keys() & want.keys())
    if got.keys() == want.keys():
        counts.exact += 1
    for key in sorted(got.keys() - want.keys(), key=str):
        report.mistakes.append(f"{sample}: {name} not expected: {key}")
    for key in sorted(want.keys() - got.keys(), key=str):
        report.mistakes.append(f"{sample}: {name} missed: {key}")


def _trees(output: dict) -> dict[str | None, list[dict]]:
    trees: dict[str | None, list[dict]] = {None: output.get("criteria") or []}
    for lot, tree in (output.get("criteria_by_lot") or {}).items():
        trees[str(lot)] = tree or []
    return trees


def _nodes(output: dict) -> tuple[dict, dict, dict]:
    """(criteria, sub-criteria, elements) keyed by (lot, [parent,] name)."""
    criteria, subs, elements = {}, {}, {}
    for lot, tree in _trees(output).items():
        for criterion in tree:
            key = (lot, normalised(criterion.get("name")))
            criteria[key] = criterion
            for sub in criterion.get("subcriteria") or []:
                subs[(*key, normalised(sub.get("name")))] = sub
            for element in criterion.get("elements") or []:
                elements[(*key, normalised(element))] = element
    return criteria, subs, elements


def score(report: Report, sample: Sample, output: dict) -> None:
    """Add one sample's answer to the report."""
    want = sample.expected
    report.samples += 1
    for name in SCALAR_FIELDS:
        _scalar(report, name, output.get(name), want.get(name), sample.name)
    _set(
        report,
        "required_contents",
        {normalised(c): c for c in output.get("required_contents") or []},
        {normalised(c): c for c in want.get("required_contents") or []},
        sample.name,
    )
    got_c, got_s, got_e = _nodes(output)
    want_c, want_s, want_e = _nodes(want)
    _set(report, "criteria", got_c, want_c, sample.name)
    _set(report, "subcriteria", got_s, want_s, sample.name)
    _set(report, "elements", got_e, want_e, sample.name)
    for got, wanted in ((got_c, want_c), (got_s, want_s)):
        for key in got.keys() & wanted.keys():
            a, b = got[key], wanted[key]
            report.weights_compared += 1
            if _key(a.get("weight")) == _key(b.get("weight")) and a.get("unit") == b.get("unit"):
                report.weights_right += 1
            else:
                report.mistakes.append(
                    f"{sample.name}: weight of {key[-1]!r} = {a.get('weight')} {a.get('unit')}, "
                    f"expected {b.get('weight')} {b.get('unit')}"
                )
            report.shares_compared += 1
            if (a.get("share") is None) == (b.get("share") is None) and (
                a.get("share") is None or abs(a["share"] - b["share"]) <= 0.0005
            ):
                report.shares_right += 1
            else:
                report.mistakes.append(
                    f"{sample.name}: share of {key[-1]!r} = {a.get('share')}, expected {b.get('share')}"
                )
    if not want_c:
        report.none_samples += 1
        report.invented += len(got_c)


def evaluate(analyse: Callable[[bytes], dict], items: list[Sample], *, on_sample=None) -> Report:
    """Run ``analyse`` (file bytes → ``analyse_rc`` JSON) on each sample and score it.
    A sample the backend fails on counts as an empty answer and is listed."""
    report = Report()
    for sample in items:
        started = time.perf_counter()
        try:
            output = analyse(sample.path.read_bytes())
        except Exception as exc:  # a failure is a result to report, not a crash
            report.failures.append(f"{sample.name}: {type(exc).__name__}: {exc}")
            output = {}
        report.seconds.append(time.perf_counter() - started)
        score(report, sample, output)
        if on_sample is not None:
            on_sample(sample, output)
    return report


def timing(analyse: Callable[[bytes], Any], path: Path, runs: int) -> dict[str, float]:
    data = path.read_bytes()
    analyse(data)  # warm-up: imports, regex compilation
    times = []
    for _run in range(runs):
        started = time.perf_counter()
        analyse(data)
        times.append(time.perf_counter() - started)
    return {"median": statistics.median(times), "max": max(times), "runs": runs}
