"""Coverage of a project's technical score by approved content, weighted by the RC's
points.

Read from the rows each time (one aggregate over ``content_matches``, grouped by
requirement, and the analysis' tree), never stored. A criterion's score is carried by
its sub-criteria when it has some (each with its share of the whole score), else by
itself; a part is covered when approved content (a block, a referenceable past project
or a memoir passage) stands behind it: a match on its own id, on one of its elements of
appreciation, or on a required content that serves it.
The price, which no memoir content earns, is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count
from django.utils.translation import gettext as _

from projects.models import ContentMatch, Project, RCAnalysis
from projects.rc import storage


@dataclass
class Line:
    id: str
    name: str
    level: str  # "criterion" or "subcriterion"
    weight_label: str
    share: float  # part of the whole score, 0–1 (equal parts when the RC gives none)
    approved: int = 0  # approved rows behind it (its own, its elements', its contents')
    covered_share: float = 0.0
    children: list[Line] = field(default_factory=list)

    @property
    def percent_covered(self) -> int:
        """How much of this line's share is covered, 0–100 (the bar's width)."""
        return round(100 * self.covered_share / self.share) if self.share else 0

    @property
    def gap_text(self) -> str:
        return _("%(name)s — %(weight)s: no approved content") % {
            "name": self.name,
            "weight": self.weight_label,
        }


@dataclass
class Coverage:
    lines: list[Line]
    technical_share: float
    covered_share: float

    @property
    def percent(self) -> int:
        """Share of the technical score covered, 0–100."""
        if not self.technical_share:
            return 0
        return round(100 * self.covered_share / self.technical_share)

    @property
    def gaps(self) -> list[Line]:
        """Parts of the score without approved content, heaviest first."""
        leaves = [
            leaf for line in self.lines for leaf in (line.children or [line]) if not leaf.approved
        ]
        return sorted(leaves, key=lambda leaf: -leaf.share)


def weight_label(node) -> str:
    weight = node.weight
    if weight is None:
        return _("no weight")
    number = f"{weight:g}".replace(".", ",") if isinstance(weight, float) else str(weight)
    if node.unit == "%":
        return f"{number} %"
    if node.unit == "points":
        return _("%(number)s pts") % {"number": number}
    if node.unit and node.unit.startswith("/"):
        return f"{number}{node.unit}" if str(weight) != node.unit[1:] else f"/{number}"
    return node.written or number


def approved_counts(company, project: Project) -> dict[str, int]:
    """Approved rows per requirement id (blocks, past projects, passages; a past project
    that is no longer referenceable is left out, as the memoir leaves it): one grouped
    query."""
    return dict(
        ContentMatch.objects.for_company(company)
        .filter(project_id=project.pk, approved=True)
        .exclude(past_project__is_referenceable=False)
        .values("requirement_id")
        .annotate(n=Count("id"))
        .values_list("requirement_id", "n")
    )


def coverage(company, project: Project) -> Coverage | None:
    """The coverage of the company's ``project``; None without an RC analysis."""
    row = RCAnalysis.objects.for_company(company).filter(project_id=project.pk).first()
    if row is None:
        return None
    analysis = storage.from_row(row)
    counts = approved_counts(company, project)
    served: dict[str, int] = {}
    for content in analysis.required_contents:
        if content.criterion and counts.get(content.id):
            served[content.criterion] = served.get(content.criterion, 0) + counts[content.id]
    technical = [c for c in analysis.criteria if c.kind != "price"]
    if not technical:
        return Coverage([], 0.0, 0.0)
    default_share = 1.0 / len(analysis.criteria) if analysis.criteria else 0.0

    def behind(node) -> int:
        return (
            counts.get(node.id, 0)
            + served.get(node.id, 0)
            + sum(counts.get(e.id, 0) + served.get(e.id, 0) for e in node.elements)
        )

    lines = []
    for criterion in technical:
        share = criterion.share if criterion.share is not None else default_share
        line = Line(criterion.id, criterion.name, "criterion", weight_label(criterion), share)
        line.approved = behind(criterion)
        subs = criterion.subcriteria
        if subs:
            known = [s.share for s in subs if s.share is not None]
            missing = share - sum(known)
            unknown = sum(1 for s in subs if s.share is None)
            for sub in subs:
                sub_share = sub.share if sub.share is not None else max(0.0, missing) / unknown
                child = Line(sub.id, sub.name, "subcriterion", weight_label(sub), sub_share)
                child.approved = behind(sub)
                child.covered_share = sub_share if child.approved else 0.0
                line.children.append(child)
                line.approved += child.approved
            line.covered_share = sum(c.covered_share for c in line.children)
        else:
            line.covered_share = share if line.approved else 0.0
        lines.append(line)
    return Coverage(
        lines,
        technical_share=sum(line.share for line in lines),
        covered_share=sum(line.covered_share for line in lines),
    )
