"""Which sections a project's memoir has: one per technical criterion of the RC (one per
sub-criterion when it has some), in the RC's order and numbering; the price gets no
section. Without criteria (an RC that defers them), one per required content."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from library import parsing
from projects.models import RCAnalysis
from projects.rc import storage

PRICE = "price"


@dataclass
class SectionPlan:
    criterion_id: str  # stored in ``sections.section_type``
    number: str  # "1.2"
    title: str
    order: int
    weight: str = ""  # as the RC writes it: "40 %"
    share: float | None = None
    parent_title: str = ""
    requirements: list[str] = field(default_factory=list)
    #: The ids of ``content_matches.requirement_id`` whose approved blocks feed it.
    requirement_ids: set[str] = field(default_factory=set)
    #: Other ``sections.section_type`` values of the same section (legacy rows).
    aliases: set[str] = field(default_factory=set)

    @property
    def heading(self) -> str:
        if not self.number:
            return self.title
        return f"{self.number}{'' if '.' in self.number else '.'} {self.title}"


class NothingToWrite(Exception):
    """The project has no analysed RC, or its RC names nothing to write."""


def number_of(ident: str) -> str:
    """``C1.2`` → ``1.2``; ``L2.C1.1`` → ``1.1``; ``R3`` → ``3``."""
    tail = ident.rsplit("C", 1)[-1] if "C" in ident else ident
    found = re.search(r"(\d+(?:\.\d+)*)$", tail)
    return ".".join(str(int(part)) for part in found.group(1).split(".")) if found else ""


def plan_of(analysis) -> list[SectionPlan]:
    """The sections of an ``Analysis`` (projects.rc.analysis)."""
    contents = analysis.required_contents
    plans: list[SectionPlan] = []

    def requirements_of(ids: set[str]) -> tuple[list[str], set[str]]:
        served = [c for c in contents if c.criterion and c.criterion in ids]
        return [c.text for c in served], {c.id for c in served if c.id}

    for criterion in analysis.criteria:
        if criterion.kind == PRICE:
            continue
        leaves = criterion.subcriteria or [criterion]
        for leaf in leaves:
            ids = {leaf.id}
            texts = [e.name for e in leaf.elements]
            if leaf is not criterion and leaf is leaves[0]:
                # The parent's own elements and contents go to its first sub-criterion.
                ids.add(criterion.id)
                texts += [e.name for e in criterion.elements]
                ids |= {e.id for e in criterion.elements}
            ids |= {e.id for e in leaf.elements}
            required, required_ids = requirements_of(ids)
            plans.append(
                SectionPlan(
                    criterion_id=leaf.id,
                    number=number_of(leaf.id),
                    title=leaf.name,
                    order=len(plans) + 1,
                    weight=leaf.written or "",
                    share=leaf.share,
                    parent_title=criterion.name if leaf is not criterion else "",
                    requirements=texts + required,
                    requirement_ids=ids | required_ids,
                )
            )
    covered = {i for p in plans for i in p.requirement_ids}
    orphans = [c for c in contents if c.id and c.id not in covered]
    if not plans:
        for content in orphans:
            plans.append(
                SectionPlan(
                    criterion_id=content.id,
                    number=number_of(content.id),
                    title=content.text[:1].upper() + content.text[1:],
                    order=len(plans) + 1,
                    requirements=[content.text],
                    requirement_ids={content.id},
                )
            )
    else:
        # A content tied to no criterion goes to the section whose title shares the most
        # words with it (the first section when none does).
        for content in orphans:
            wanted = _words(content.text)
            best = max(plans, key=lambda p: (len(wanted & _words(p.title)), -p.order))
            best.requirements.append(content.text)
            best.requirement_ids.add(content.id)
    return plans


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w+", parsing.fold(text or "")) if len(w) >= 4}


def plan(company, project) -> tuple[list[SectionPlan], object]:
    """The sections of the company's project and its stored analysis; NothingToWrite
    when there is none."""
    row = RCAnalysis.objects.for_company(company).filter(project_id=project.pk).first()
    if row is None:
        raise NothingToWrite(_("The project's RC has not been analysed: nothing to write."))
    analysis = storage.from_row(row)
    plans = plan_of(analysis)
    # Rows typed before the analysis existed named their sections' types.
    legacy = {
        str(item.get("id")): str(item["section_type"])
        for item in row.required_sections or []
        if isinstance(item, dict) and item.get("section_type")
    }
    for item in plans:
        item.aliases = {legacy[i] for i in item.requirement_ids if i in legacy}
    if not plans:
        raise NothingToWrite(
            _("The RC analysis names no technical criterion and no required content.")
        )
    return plans, analysis
