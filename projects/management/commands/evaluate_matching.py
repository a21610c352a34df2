"""Measure matching on the labelled set of projects/evaluation/matching_set.json.

``python manage.py evaluate_matching`` writes the set's library (blocks and past
projects) for a throw-away company, matches the requirements of its RCs and prints
recall@3, recall@5 and precision@5 per kind of requirement, and how many expired,
inactive or other companies' blocks, and non-referenceable or other companies' past
projects, were proposed (must be 0). Nothing is kept.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from library.embeddings import EmbeddingUnavailable
from projects.evaluation import matching as evaluation
from tenants import rls

#: Targets of issue 14.
TARGETS = {"recall@5": 0.90, "precision@5": 0.60}


class Command(BaseCommand):
    help = "Measure matching (recall@3, recall@5, precision@5, expired proposals)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--lexical", action="store_true", help="Do not embed the blocks (words only)."
        )
        parser.add_argument(
            "--misses", action="store_true", help="List the requirements with misses."
        )

    def handle(self, *args, misses: bool, lexical: bool, **options):
        try:
            with rls.every_company():
                report = evaluation.evaluate(embed=not lexical, log=self.stderr.write)
        except EmbeddingUnavailable as exc:
            raise CommandError(f"{exc} Relancez avec --lexical.") from None
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(f"Jeu d'évaluation illisible : {exc}") from None
        self.stdout.write(render(report, misses=misses))
        if report.expired_proposed or report.foreign_proposed or report.unreferenceable_proposed:
            raise CommandError(
                f"{report.expired_proposed} bloc(s) périmé(s) ou inactif(s), "
                f"{report.unreferenceable_proposed} projet(s) non référençable(s) et "
                f"{report.foreign_proposed} contenu(s) d'une autre entreprise proposé(s)."
            )


def render(report: evaluation.Report, *, misses: bool = False) -> str:
    lines = [
        f"Matching on {report.blocks} blocks, {report.past_projects} past projects, "
        f"{report.requirements} requirements "
        f"({report.seconds * 1000:.0f} ms of matching; "
        f"{'embeddings: ' + report.model if report.model else 'words only'})",
        "",
        "| kind | requirements | recall@3 | recall@5 | precision@5 |",
        "|---|---|---|---|---|",
    ]
    for kind in sorted(report.by_kind):
        m = report.by_kind[kind].means()
        lines.append(
            f"| {kind} | {m['requirements']} | {m['recall@3']:.2f} | {m['recall@5']:.2f} | "
            f"{m['precision@5']:.2f} |"
        )
    m = report.overall.means()
    lines.append(
        f"| **all** | {m['requirements']} | {m['recall@3']:.2f} | {m['recall@5']:.2f} | "
        f"{m['precision@5']:.2f} |"
    )
    lines += [
        "",
        f"expired or inactive blocks proposed: {report.expired_proposed}",
        f"non-referenceable past projects proposed: {report.unreferenceable_proposed}",
        f"other company's blocks or past projects proposed: {report.foreign_proposed}",
    ]
    for name, target in TARGETS.items():
        verdict = "met" if m[name] >= target else "NOT met"
        lines.append(f"target {name} ≥ {target:.2f}: {verdict} ({m[name]:.2f})")
    if misses:
        lines.append("")
        for number, text, missed, wrong in report.misses:
            lines.append(f"RC {number} « {text} »: missed {missed}, not expected {wrong}")
    return "\n".join(lines)
