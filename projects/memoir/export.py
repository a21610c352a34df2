"""The finished memoir as a Word document, built as a background job (``JobKind.EXPORT``):
a cover (project, buyer, lot, company), a table of contents field, the sections in the
RC's order and numbering under each criterion's title with their fact tables, the
company's certifications and references, and optionally an internal annex of sources.

Only Word's built-in styles are used (Title, Heading 1–3, List Bullet, Table Grid), so a
bid manager restyles the whole document in Word, or once for all in the company's Word
template (styles, header, footer, a cover of its own), which the export starts from, with
the company's logo on the cover (``projects.memoir.word_template``, uploaded on the admin's
"Memoir Word template" page). The page count is estimated (words and table rows per
page) and checked against the RC's page limit. Each export is kept under the company's
path (``memoir_exports``) and the project's ``final_document_url`` names the latest,
which is downloaded through the authenticated admin view only.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import time
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from audit import services as audit
from config import storage as paths
from jobs import registry
from jobs import services as jobs
from jobs.models import Job, JobKind
from projects.memoir import context as ctx
from projects.memoir import review, word_template
from projects.memoir.plan import NothingToWrite, plan
from projects.memoir.tables import tables_for
from projects.models import ContentMatch, MemoirExport, Project, ProjectStatus, Section
from projects.services import needed_on
from tenants.models import Company

EXPORTABLE = (ProjectStatus.GENERATED, ProjectStatus.REVIEWING, ProjectStatus.COMPLETED)
#: The estimate of a page: words of body text, and table rows.
WORDS_PER_PAGE = 450
ROWS_PER_PAGE = 25
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class ExportNotAllowed(Exception):
    pass


@dataclass
class Built:
    data: bytes
    sections: int
    pages: int
    page_limit: int | None
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


def queue_export(
    company, project: Project, *, sources: bool = False, user=None, now: bool = False
) -> Job:
    project = Project.objects.for_company(company).get(pk=project.pk)
    if review.is_frozen(project):
        raise ExportNotAllowed(review.frozen_message(project))
    if project.status not in EXPORTABLE:
        raise ExportNotAllowed(
            _(
                "The memoir can be exported once it is generated, not while the project is “%(status)s”."
            )
            % {"status": ProjectStatus(project.status).label}
        )
    job = jobs.enqueue(
        company,
        JobKind.EXPORT,
        project,
        user=user,
        params={"sources": bool(sources)},
        queue=not now,
    )
    if now:
        return jobs.run_inline(job)
    return job


# --- building the document -------------------------------------------------------------------

TABLE_LINE = re.compile(r"^\|.*\|$")
SEPARATOR = re.compile(r"^\|(\s*:?-{3,}:?\s*\|)+$")


def _toc(document) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    paragraph = document.add_paragraph()
    run = paragraph.add_run()
    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    instruction = OxmlElement("w:instrText")
    instruction.set(qn("xml:space"), "preserve")
    instruction.text = 'TOC \\o "1-3" \\h \\z \\u'
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    placeholder = OxmlElement("w:t")
    placeholder.text = _("Right-click and choose “Update field” to show the table of contents.")
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    for element in (begin, instruction, separate, placeholder, end):
        run._r.append(element)


def _table(document, rows: list[list[str]]) -> None:
    if not rows:
        return
    width = max(len(r) for r in rows)
    table = document.add_table(rows=len(rows), cols=width)
    if _has_style(document, "Table Grid"):
        table.style = "Table Grid"
    for i, row in enumerate(rows):
        for j in range(width):
            cell = table.cell(i, j)
            cell.text = row[j] if j < len(row) else ""
            if i == 0:
                for run in cell.paragraphs[0].runs:
                    run.bold = True


def _has_style(document, name: str) -> bool:
    return any(style.name == name for style in document.styles)


def _paragraph(document, text: str, style: str | None = None):
    """A paragraph in ``style`` when the document (a company's template) has it."""
    if style and _has_style(document, style):
        return document.add_paragraph(text, style=style)
    return document.add_paragraph(text)


def _heading(document, text: str, level: int):
    if _has_style(document, f"Heading {level}"):
        return document.add_heading(text, level=level)
    paragraph = document.add_paragraph()
    paragraph.add_run(text).bold = True
    return paragraph


def _logo(document, company) -> None:
    """The company's logo on the cover (``projects.memoir.word_template``), when it names
    an image in the company's storage that Word can show."""
    data = word_template.logo_image(company)
    if data is None:
        return
    try:
        word_template.add_logo(document, data)
    except Exception:  # not an image Word can show: the cover goes without it
        return


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


class Counter:
    def __init__(self):
        self.words = 0
        self.rows = 0


def render_text(document, text: str, level: int, counter: Counter) -> None:
    """A section's stored text into the document: ``###`` sub-headings, ``-`` bullets,
    pipe tables, paragraphs."""
    lines = (text or "").replace("\r\n", "\n").split("\n")
    i = 0
    paragraph: list[str] = []

    def flush():
        if paragraph:
            body = " ".join(s.strip() for s in paragraph)
            document.add_paragraph(body)
            counter.words += len(body.split())
            paragraph.clear()

    while i < len(lines):
        line = lines[i].rstrip()
        stripped = line.strip()
        if not stripped:
            flush()
        elif stripped.startswith("#"):
            flush()
            hashes = len(stripped) - len(stripped.lstrip("#"))
            heading = stripped.lstrip("#").strip()
            _heading(document, heading, level=min(level + max(hashes - 2, 1), 4))
            counter.words += len(heading.split())
        elif stripped.startswith(("- ", "* ")):
            flush()
            _paragraph(document, stripped[2:].strip(), "List Bullet")
            counter.words += len(stripped.split())
        elif TABLE_LINE.match(stripped):
            flush()
            rows = []
            while i < len(lines) and TABLE_LINE.match(lines[i].strip()):
                if not SEPARATOR.match(lines[i].strip()):
                    rows.append(_cells(lines[i]))
                i += 1
            _table(document, rows)
            counter.rows += len(rows)
            continue
        else:
            paragraph.append(stripped)
        i += 1
    flush()


def build(company, project: Project, *, sources: bool = False) -> Built:
    """The memoir of the company's project as DOCX bytes, on the company's Word template
    (``projects.memoir.word_template``) when it has one."""
    started = time.perf_counter()
    company = Company.objects.get(pk=getattr(company, "pk", company))
    project = Project.objects.for_company(company).get(pk=project.pk)
    try:
        plans, analysis = plan(company, project)
    except NothingToWrite:
        plans, analysis = [], None
    sections = {
        s.section_type: s
        for s in Section.objects.for_company(company).filter(project_id=project.pk)
    }
    document = word_template.open_template(company)
    counter = Counter()

    # Cover.
    _paragraph(document, project.name, "Title")
    _paragraph(document, _("Technical memoir"), "Subtitle")
    _logo(document, company)
    for label, value in (
        (_("Buyer"), project.client),
        (_("Lot"), project.lot),
        (_("Site"), project.location),
        (_("Candidate"), company.name),
    ):
        if value:
            paragraph = document.add_paragraph()
            paragraph.add_run(f"{label} : ").bold = True
            paragraph.add_run(value)
    document.add_page_break()
    _heading(document, _("Contents"), level=1)
    _toc(document)
    document.add_page_break()

    ordered, seen_parents = [], set()
    for item in plans:
        if item.criterion_id in sections:
            ordered.append((item, sections[item.criterion_id]))
    planned = {item.criterion_id for item in plans}
    extra = sorted(
        (s for key, s in sections.items() if key not in planned),
        key=lambda s: (s.order_num or 0, s.title),
    )
    for item, section in ordered:
        level = 1
        if item.parent_title:
            parent_number = item.number.rsplit(".", 1)[0]
            if parent_number not in seen_parents:
                seen_parents.add(parent_number)
                _heading(document, f"{parent_number}. {item.parent_title}", level=1)
            level = 2
        _heading(
            document,
            f"{item.number} {section.title}" if item.parent_title else item.heading,
            level=level,
        )
        render_text(document, section.content, level, counter)
    for section in extra:
        _heading(document, section.title, level=1)
        render_text(document, section.content, 1, counter)

    # The company's certifications and references from the approved content.
    requirement_ids = set(
        ContentMatch.objects.for_company(company)
        .filter(project_id=project.pk, approved=True)
        .values_list("requirement_id", flat=True)
    )
    blocks = ctx.approved_blocks(company, project, requirement_ids)
    past_projects = ctx.approved_past_projects(company, project, requirement_ids, blocks)
    from library.choices import BlockType

    closing = tables_for(
        blocks,
        needed_on(project),
        (BlockType.CERTIFICATION, BlockType.PAST_PROJECT_REFERENCE),
        past_projects=past_projects,
    )
    if closing:
        _heading(document, _("Certifications and references"), level=1)
        for table in closing:
            _heading(document, table.title, level=2)
            _table(document, [table.headers, *table.rows])
            counter.rows += len(table.rows) + 1

    if sources:
        document.add_page_break()
        _heading(document, _("Annex: sources of each section (internal)"), level=1)
        titles = {str(b.pk): b.title for b in blocks}
        for item, section in ordered:
            _heading(document, item.heading, level=2)
            for block_id, version in (section.source_versions or {}).items():
                _paragraph(
                    document,
                    _("Block “%(title)s”, version %(version)s")
                    % {"title": titles.get(block_id, block_id), "version": version},
                    "List Bullet",
                )
            for past in section.source_past_projects or []:
                if not isinstance(past, dict):
                    continue
                _paragraph(
                    document,
                    _("Past project “%(name)s”") % {"name": past.get("name")},
                    "List Bullet",
                )
            for passage in section.source_passages or []:
                _paragraph(
                    document,
                    _("Passage of “%(memoire)s”, page %(page)s (score %(score)s)")
                    % {
                        "memoire": passage.get("memoire"),
                        "page": passage.get("page") or "—",
                        "score": passage.get("score"),
                    },
                    "List Bullet",
                )

    pages = 2 + math.ceil(counter.words / WORDS_PER_PAGE + counter.rows / ROWS_PER_PAGE)
    limit = None
    if analysis is not None:
        value = analysis.facts["page_limit"].value
        limit = int(value) if isinstance(value, int | float) and value else None
    warnings = []
    if limit and pages > limit:
        warnings.append(
            _("About %(pages)d pages, over the RC's limit of %(limit)d pages.")
            % {"pages": pages, "limit": limit}
        )
    missing = [item.heading for item in plans if item.criterion_id not in sections]
    if missing:
        warnings.append(_("Sections not written yet: %(list)s.") % {"list": ", ".join(missing)})
    out = io.BytesIO()
    document.save(out)
    return Built(
        data=out.getvalue(),
        sections=len(ordered) + len(extra),
        pages=pages,
        page_limit=limit,
        warnings=warnings,
        seconds=time.perf_counter() - started,
    )


def save_export(
    company, project: Project, built: Built, *, sources: bool, user=None
) -> MemoirExport:
    """Store the built document under the company's path and record it (the project's
    ``final_document_url`` names it)."""
    project = Project.objects.for_company(company).get(pk=project.pk)
    export = MemoirExport(project=project, with_sources=sources)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    export.filename = f"memoire-{slugify(project.name)[:80] or 'projet'}-{stamp}.docx"
    path = paths.memoir_export_path(project.company_id, project.pk, export.pk, export.filename)
    stored = default_storage.save(path, ContentFile(built.data))
    try:
        with transaction.atomic():
            locked = Project.objects.for_company(company).select_for_update().get(pk=project.pk)
            if review.is_frozen(locked):
                raise registry.JobFailed(review.frozen_message(locked))
            export.storage_path = stored
            export.size_bytes = len(built.data)
            export.sha256 = hashlib.sha256(built.data).hexdigest()
            export.sections = built.sections
            export.page_estimate = built.pages
            export.page_limit = built.page_limit
            export.warnings = built.warnings
            export.created_by = user if getattr(user, "is_authenticated", False) else None
            export.save(force_insert=True)
            Project.objects.filter(pk=locked.pk).update(
                final_document_url=reverse("admin:projects_memoirexport_download", args=[export.pk])
            )
            audit.record_object(
                "export", locked, user=user, extra={"export": str(export.pk), "pages": built.pages}
            )
    except BaseException:
        default_storage.delete(stored)  # nothing half-written
        raise
    return export


def run(job: Job, progress) -> dict:
    project = Project.objects.for_company(job.company_id).filter(pk=job.target_id).first()
    if project is None:
        raise registry.JobFailed(_("This project no longer exists."))
    if review.is_frozen(project):
        raise registry.JobFailed(review.frozen_message(project))
    sources = bool(job.params.get("sources"))
    progress(0, 2, _("Building the document"))
    with translation.override("fr"):
        built = build(job.company_id, project, sources=sources)
        progress(1, 2, _("Saving the document"))
        export = save_export(job.company_id, project, built, sources=sources, user=job.created_by)
    progress(2, 2, _("Document ready"))
    return {
        "export": str(export.pk),
        "pages": built.pages,
        "page_limit": built.page_limit,
        "warnings": built.warnings,
        "sections": built.sections,
        "seconds": round(built.seconds, 3),
    }
