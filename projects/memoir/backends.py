"""The writers of a section's prose: ``assembly`` (offline, deterministic, the default)
and ``llm`` (the configured model). Whichever writes, the fact tables are rendered by
code from the typed facts and appended after the prose.

The assembly backend is no language model: it puts together, in a fixed order, an
introduction adapted to the criterion (its title and weight, the project's client, site
and lot), what the RC asks for it, the company's section template with its
placeholders filled, the text of the approved procedure, methodology and company
blocks, and the best passages of the company's past memoirs. It writes no fact the
approved content does not hold; its text is meant to be reviewed and edited.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _

from library.choices import BlockType
from projects.memoir import budget, factcheck
from projects.memoir.context import Context
from projects.memoir.tables import TABLE_TYPES, tables_for

ASSEMBLY = "assembly"
LLM = "llm"
BACKENDS = (ASSEMBLY, LLM)
ASSEMBLY_MODEL = "assembly-1"


class UnknownBackend(Exception):
    pass


class GenerationRefused(Exception):
    """The section cannot be written as asked (budget, fact check, provider error);
    the French message says why. ``draft`` holds what was spent when a call was made."""

    def __init__(self, message: str, draft: Draft | None = None):
        super().__init__(message)
        self.draft = draft


@dataclass
class Draft:
    text: str
    provider: str
    model: str
    prompt_sha256: str
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal | None = Decimal(0)
    duration_seconds: float = 0.0
    params: dict = field(default_factory=dict)

    @property
    def output_sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def backend_name(name: str | None) -> str:
    name = (name or settings.GENERATION_BACKEND or ASSEMBLY).strip().lower()
    if name not in BACKENDS:
        raise UnknownBackend(
            _("Unknown generation backend “%(name)s”: use assembly or llm.") % {"name": name}
        )
    return name


def tables_markdown(context: Context) -> str:
    tables = tables_for(context.blocks, context.on, past_projects=context.past_projects)
    return "\n\n".join(t.markdown() for t in tables)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- assembly -------------------------------------------------------------------------------


def _intro(context: Context) -> str:
    project, plan = context.project, context.plan
    where = []
    if project.client:
        where.append(_("for %(client)s") % {"client": project.client})
    if project.location:
        where.append(_("in %(location)s") % {"location": project.location})
    lot = f" ({project.lot})" if project.lot else ""
    weight = _(" (weighted %(weight)s in the RC)") % {"weight": plan.weight} if plan.weight else ""
    first = _(
        "For the operation “%(project)s”%(lot)s %(where)s, this chapter answers the "
        "criterion “%(criterion)s”%(weight)s."
    ) % {
        "project": project.name,
        "lot": lot,
        "where": " ".join(where),
        "criterion": plan.title,
        "weight": weight,
    }
    return " ".join(first.split())


def _requirements(context: Context) -> str:
    if not context.plan.requirements:
        return ""
    lines = [_("The consultation rules ask us to present:")]
    lines += [f"- {text}" for text in context.plan.requirements]
    return "\n".join(lines)


def _block_texts(context: Context) -> list[str]:
    parts = []
    for block in context.blocks:
        if block.type in TABLE_TYPES or not (block.content or "").strip():
            continue
        text = context.checked(block.content, block.title)
        if text:
            parts.append(f"### {block.title}\n\n{text}")
    return parts


def _people_sentence(context: Context) -> str:
    counts = {t: sum(1 for b in context.blocks if b.type == t) for t in TABLE_TYPES}
    sentences = []
    if counts[BlockType.PERSON_CV]:
        sentences.append(
            _("The team assigned to the operation is listed below with its valid qualifications.")
        )
    if counts[BlockType.EQUIPMENT]:
        sentences.append(_("The equipment committed is listed below with its inspection status."))
    return " ".join(sentences)


def assemble(context: Context) -> Draft:
    started = time.perf_counter()
    parts = [_intro(context), _requirements(context)]
    if context.template is not None:
        filled = context.fill(context.template.template_content, context.template.placeholders)
        parts.append(context.checked(filled, context.template.title))
    parts += _block_texts(context)
    people = _people_sentence(context)
    if people:
        parts.append(people)
    tables = tables_markdown(context)
    if tables:
        parts.append(tables)
    if context.passages:
        parts.append("### " + _("Experience from our previous operations"))
        parts += [context.fill(p.content).strip() for p in context.passages]
    text = "\n\n".join(p for p in parts if p and p.strip())
    return Draft(
        text=text,
        provider=ASSEMBLY,
        model=ASSEMBLY_MODEL,
        prompt_sha256=_sha(repr(context_json(context))),
        duration_seconds=time.perf_counter() - started,
        params={"backend": ASSEMBLY, "left_out": context.left_out},
    )


def context_json(context: Context) -> dict:
    return {
        "criterion": context.plan.criterion_id,
        "title": context.plan.title,
        "requirements": context.plan.requirements,
        "blocks": context.block_versions(),
        "past_projects": context.past_project_records(),
        "chunks": [p.as_json() for p in context.passages],
        "template": str(context.template.pk) if context.template else None,
        "on": context.on.isoformat(),
    }


# --- llm -----------------------------------------------------------------------------------

SYSTEM = (
    "You write one chapter of a French mémoire technique answering a public works tender. "
    "Write in French, in plain paragraphs (a line starting with '### ' for a sub-heading "
    "is allowed), specific to the project and to the criterion. Use only the facts given: "
    "never invent a person, a certification, a number, a reference or a quantity, and do "
    "not write tables: the tables of people, equipment, certifications and references are "
    "added after your text by the application, as given."
)


def build_prompt(context: Context) -> str:
    project, plan = context.project, context.plan
    lines = [
        f"Project: {project.name}",
        f"Buyer: {project.client or '-'}",
        f"Site: {project.location or '-'}",
        f"Lot: {project.lot or '-'}",
        f"Company: {context.company.name}",
        "",
        f"Criterion {plan.number}: {plan.title}" + (f" ({plan.weight})" if plan.weight else ""),
    ]
    if plan.requirements:
        lines.append("The RC asks for:")
        lines += [f"- {text}" for text in plan.requirements]
    if context.template is not None:
        template = context.checked(context.template.template_content, context.template.title)
        lines += ["", "Section template:", template]
    tables = tables_markdown(context)
    if tables:
        lines += ["", "Facts (tables added after your text, do not alter them):", tables]
    for block in context.blocks:
        if block.type not in TABLE_TYPES and block.content:
            text = context.checked(block.content, block.title)[:4000]
            if text:
                lines += ["", f"Approved content “{block.title}”:", text]
    for passage in context.passages:
        lines += ["", f"Passage of a past memoir ({passage.memoire}):", passage.content[:2000]]
    lines += ["", "Write the chapter's prose now."]
    return "\n".join(lines)


def write_with_llm(context: Context, *, client=None) -> Draft:
    from llm.client import LLMClient, prompt_hash
    from llm.config import ProviderConfig
    from llm.errors import LLMError
    from llm.prices import cost

    try:
        config = ProviderConfig.from_settings()
    except LLMError as exc:
        raise GenerationRefused(str(exc)) from None
    prompt = build_prompt(context)
    estimate_in = (len(SYSTEM) + len(prompt)) // 3 + 1
    estimate_out = config.max_output_tokens
    try:
        budget.check(
            context.company,
            estimate_in + estimate_out,
            cost(config.model, estimate_in, estimate_out, config.prices),
        )
    except budget.BudgetExceeded as exc:
        raise GenerationRefused(str(exc)) from None
    client = client or LLMClient(config)
    params = {
        "left_out": context.left_out,
        "backend": LLM,
        "max_tokens": config.max_output_tokens,
        "temperature": config.temperature,
    }
    try:
        result = client.complete(prompt, system=SYSTEM, purpose="generation")
    except LLMError as exc:
        usage = exc.usage
        raise GenerationRefused(
            str(exc),
            Draft(
                text="",
                provider=config.provider,
                model=config.model,
                prompt_sha256=prompt_hash(SYSTEM, prompt),
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cost_usd=usage.cost_usd,
                duration_seconds=getattr(exc, "duration_seconds", 0.0),
                params=params,
            ),
        ) from None
    prose = result.text.strip()
    draft = Draft(
        text=prose,
        provider=result.provider,
        model=result.model,
        prompt_sha256=prompt_hash(SYSTEM, prompt),
        input_tokens=result.input_tokens,
        output_tokens=result.output_tokens,
        cost_usd=result.cost_usd,
        duration_seconds=result.duration_seconds,
        params=params,
    )
    unknown = factcheck.unknown_facts(
        context.company,
        prose,
        context.blocks,
        context.on,
        others=context.known_facts(),
        past_projects=context.past_projects,
    )
    if unknown:
        raise GenerationRefused(
            _(
                "The generated text of “%(section)s” was refused: it names %(facts)s, absent "
                "from the approved content."
            )
            % {"section": context.plan.title, "facts": ", ".join(unknown)},
            draft,
        )
    tables = tables_markdown(context)
    draft.text = "\n\n".join(p for p in (prose, tables) if p)
    return draft


def write(context: Context, backend: str) -> Draft:
    if backend == LLM:
        return write_with_llm(context)
    return assemble(context)
