"""What a section is written from: the approved blocks and past projects of its
criterion, the company's section template that fits it, the best passages of past
memoirs, and the project's facts (client, site, lot, deadline)."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from library import facts, parsing
from library.choices import BlockType
from library.models import ContentBlock, PastProject, SectionTemplate
from projects.memoir import factcheck
from projects.memoir.plan import SectionPlan
from projects.memoir.tables import valid_certification
from projects.models import ContentMatch, Project
from projects.services import needed_on
from tenants.models import Company

TYPE_ORDER = {value: index for index, value in enumerate(BlockType.values)}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass
class PassageUsed:
    chunk_id: str
    memoire: str
    content: str
    score: float
    page: int | None = None

    def as_json(self) -> dict:
        return {
            "chunk": self.chunk_id,
            "memoire": self.memoire,
            "score": round(self.score, 6),
            "page": self.page,
        }


@dataclass
class Context:
    company: Company
    project: Project
    plan: SectionPlan
    blocks: list[ContentBlock]
    on: datetime.date
    template: SectionTemplate | None = None
    passages: list[PassageUsed] = field(default_factory=list)
    #: The approved referenceable past projects (rows of the references table).
    past_projects: list[PastProject] = field(default_factory=list)

    #: Paragraphs of blocks and templates left out because they name a fact the
    #: approved content does not hold: ``[{"source", "facts"}]``.
    left_out: list[dict] = field(default_factory=list)
    _others: list | None = field(default=None, repr=False)  # factcheck.company_facts

    def known_facts(self) -> list:
        """The company's certificate numbers and people (``factcheck.company_facts``),
        read once for the context, or handed over by the job for all its sections."""
        if self._others is None:
            self._others = factcheck.company_facts(self.company)
        return self._others

    def checked(self, text: str, source: str) -> str:
        """``text`` (filled) without its paragraphs that name a certification or a
        person absent from the approved content (a company profile claiming a
        certification that expired…); what is left out is recorded."""
        kept = []
        for paragraph in re.split(r"\n\s*\n", self.fill(text or "")):
            unknown = factcheck.unknown_facts(
                self.company,
                paragraph,
                self.blocks,
                self.on,
                others=self.known_facts(),
                past_projects=self.past_projects,
            )
            if unknown:
                self.left_out.append({"source": source, "facts": unknown})
            elif paragraph.strip():
                kept.append(paragraph.strip())
        return "\n\n".join(kept)

    def block_versions(self) -> list[dict]:
        return [{"id": str(b.pk), "version": b.version, "title": b.title} for b in self.blocks]

    def past_project_records(self) -> list[dict]:
        """The past projects cited, as the section and the generation request keep
        them."""
        return [past_project_record(p) for p in self.past_projects]

    def placeholder_values(self) -> dict[str, str]:
        project = self.project
        deadline = (
            timezone.localtime(project.deadline).strftime("%d/%m/%Y") if project.deadline else ""
        )
        cvs = [facts.read(b) for b in self.blocks if b.type == BlockType.PERSON_CV]
        lead = next(
            (cv for cv in cvs if re.search(r"conduct|chef|respons", parsing.fold(cv.role or ""))),
            cvs[0] if cvs else None,
        )
        values = {
            "nom_projet": project.name,
            "projet": project.name,
            "operation": project.name,
            "objet": project.name,
            "client": project.client or "",
            "acheteur": project.client or "",
            "maitre_ouvrage": project.client or "",
            "lieu": project.location or "",
            "site": project.location or "",
            "commune": project.location or "",
            "localisation": project.location or "",
            "lot": project.lot or "",
            "entreprise": self.company.name,
            "societe": self.company.name,
            "nom_entreprise": self.company.name,
            "date_limite": deadline,
            "critere": self.plan.title,
            "conducteur": (lead.name or "") if lead else "",
            "responsable": (lead.name or "") if lead else "",
        }
        return {key: value for key, value in values.items() if value}

    def fill(self, text: str, descriptions: dict | None = None) -> str:
        """``text`` with its ``{placeholders}`` filled; an unknown one is left for the
        reviewer as "[to be completed: …]"."""
        values = self.placeholder_values()
        descriptions = descriptions or {}

        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name in values:
                return values[name]
            return _("[to be completed: %(what)s]") % {"what": descriptions.get(name) or name}

        return PLACEHOLDER.sub(replace, text or "")


def approved_blocks(company, project: Project, requirement_ids) -> list[ContentBlock]:
    """The active blocks of the company's approved matches for ``requirement_ids``."""
    ids = set()
    for blocks in (
        ContentMatch.objects.for_company(company)
        .filter(project_id=project.pk, approved=True, requirement_id__in=list(requirement_ids))
        .values_list("matched_blocks", flat=True)
    ):
        ids.update(blocks or [])
    if not ids:
        return []
    rows = ContentBlock.objects.for_company(company).filter(pk__in=ids, is_active=True)
    on = needed_on(project)
    # An expired certification is never claimed: it is no source of the memoir.
    rows = [
        b
        for b in rows
        if not (b.type == BlockType.CERTIFICATION and not valid_certification(facts.read(b), on))
    ]
    return sorted(rows, key=lambda b: (TYPE_ORDER.get(b.type, 99), b.title, str(b.pk)))


def past_project_record(project: PastProject) -> dict:
    return {
        "id": str(project.pk),
        "name": project.name,
        "client": project.client or "",
        "year": project.year,
    }


def approved_past_projects(
    company, project: Project, requirement_ids, blocks=()
) -> list[PastProject]:
    """The referenceable past projects of the company's approved matches for
    ``requirement_ids``, without those an approved reference block already stands for
    (its ``past_project_id``), most recent first."""
    ids = set(
        ContentMatch.objects.for_company(company)
        .filter(
            project_id=project.pk,
            approved=True,
            requirement_id__in=list(requirement_ids),
            past_project__isnull=False,
        )
        .values_list("past_project_id", flat=True)
    )
    if not ids:
        return []
    cited = {
        str((b.metadata or {}).get("past_project_id"))
        for b in blocks
        if b.type == BlockType.PAST_PROJECT_REFERENCE and isinstance(b.metadata, dict)
    }
    rows = PastProject.objects.for_company(company).filter(pk__in=ids, is_referenceable=True)
    return sorted(
        (p for p in rows if str(p.pk) not in cited),
        key=lambda p: (-(p.year or 0), p.name, str(p.pk)),
    )


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w+", parsing.fold(text or "")) if len(w) >= 4}


def template_for(company, plan: SectionPlan) -> SectionTemplate | None:
    """The company's template for the criterion: one whose section type is the
    criterion's id, else the one sharing the most words with its title."""
    templates = list(SectionTemplate.objects.for_company(company).order_by("title", "pk"))
    for template in templates:
        if template.section_type == plan.criterion_id:
            return template
    wanted = _words(plan.title) | _words(plan.parent_title)
    best, best_score = None, 0
    for template in templates:
        score = len(
            wanted & (_words(template.section_type.replace("_", " ")) | _words(template.title))
        )
        if score > best_score:
            best, best_score = template, score
    return best


def approved_passages(company, project: Project, requirement_ids) -> list[PassageUsed]:
    """The memoir passages approved for ``requirement_ids`` (matches proposing a passage:
    ``content_matches.passage_chunk_id``, where the matching writes them), best first."""
    from rag.models import DocumentChunk

    if "passage_chunk_id" not in {f.name for f in ContentMatch._meta.get_fields()}:
        return []  # a schema whose matches propose blocks only
    confidence = dict(
        ContentMatch.objects.for_company(company)
        .filter(
            project_id=project.pk,
            approved=True,
            requirement_id__in=list(requirement_ids),
            passage_chunk_id__isnull=False,
        )
        .values_list("passage_chunk_id", "confidence")
    )
    if not confidence:
        return []
    chunks = (
        DocumentChunk.objects.filter(company_id=company.pk, pk__in=list(confidence))
        .select_related("memoire")
        .only("pk", "content", "metadata", "memoire__filename")
    )
    found = [
        PassageUsed(
            chunk_id=str(chunk.pk),
            memoire=chunk.memoire.filename,
            content=chunk.content,
            score=float(confidence[chunk.pk] or 1.0),
            page=(chunk.metadata or {}).get("page"),
        )
        for chunk in chunks
    ]
    return sorted(found, key=lambda p: (-p.score, p.chunk_id))


def passages_for(
    company,
    plan: SectionPlan,
    blocks,
    on,
    k: int | None = None,
    project: Project | None = None,
    past_projects=(),
    known_facts: list | None = None,
) -> list[PassageUsed]:
    """The best passages of the company's memoirs for the criterion, without those that
    name a certification or a person the approved content does not hold."""
    from rag.models import DocumentChunk

    k = settings.GENERATION_PASSAGES if k is None else k
    if k <= 0 or not DocumentChunk.objects.filter(company_id=company.pk).exists():
        return []
    from rag.search import search_passages

    candidates = approved_passages(company, project, plan.requirement_ids) if project else []
    query = " ".join([plan.title, *plan.requirements])[:400]
    found, _facts = search_passages(company, query, k=k * 2)
    candidates += [
        PassageUsed(
            chunk_id=str(passage.chunk_id),
            memoire=passage.memoire,
            content=passage.content,
            score=float(passage.score),
            page=passage.page,
        )
        for passage in found
    ]
    others = factcheck.company_facts(company) if known_facts is None else known_facts
    kept, seen = [], set()
    for passage in candidates:
        if passage.chunk_id in seen:
            continue
        seen.add(passage.chunk_id)
        if factcheck.unknown_facts(
            company, passage.content, blocks, on, others=others, past_projects=past_projects
        ):
            continue
        kept.append(passage)
        if len(kept) == k:
            break
    return kept


def build(
    company: Company,
    project: Project,
    plan: SectionPlan,
    *,
    passages: bool = True,
    known_facts: list | None = None,
) -> Context:
    """What a section is written from. ``known_facts``: ``factcheck.company_facts``
    when the caller (a job writing every section) has read them already."""
    on = needed_on(project)
    if known_facts is None:
        known_facts = factcheck.company_facts(company)
    blocks = approved_blocks(company, project, plan.requirement_ids)
    past_projects = approved_past_projects(company, project, plan.requirement_ids, blocks)
    return Context(
        company=company,
        project=project,
        plan=plan,
        blocks=blocks,
        on=on,
        template=template_for(company, plan),
        passages=passages_for(
            company,
            plan,
            blocks,
            on,
            project=project,
            past_projects=past_projects,
            known_facts=known_facts,
        )
        if passages
        else [],
        past_projects=past_projects,
        _others=known_facts,
    )
