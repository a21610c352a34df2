"""The review of a memoir: every replaced text is kept as a version, an edit after the
review clears it, and a submitted project's sections are frozen for everyone (a
platform superuser included), so that what was reviewed is what was sent.

A section is *stale* while its project is in progress when a block it was written from
changed since (a newer version), was deactivated, or no longer is valid on the day the
project needs it; or when a past project it cites may no longer be cited, or no longer
reads as its references table does (name, client, year).
"""

from __future__ import annotations

import difflib
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from audit import services as audit
from library.models import ContentBlock, PastProject
from projects.models import Project, ProjectStatus, Section, SectionVersion
from projects.services import needed_on

FROZEN = (ProjectStatus.SUBMITTED,)


class SectionFrozen(Exception):
    """The section's project was submitted: nothing may change."""


def is_frozen(project: Project) -> bool:
    return project.status in FROZEN


def frozen_message(project: Project) -> str:
    return _("“%(project)s” was submitted: its sections and document can no longer change.") % {
        "project": project.name
    }


def keep_version(section: Section, *, reason: str, user=None) -> SectionVersion | None:
    """Keep the section's current text (as stored) as its next version; None when it
    has none yet."""
    stored = (
        Section.objects.filter(pk=section.pk).values("title", "content", "source_versions").first()
    )
    if stored is None or not (stored["content"] or "").strip():
        return None
    last = SectionVersion.objects.filter(section_id=section.pk).aggregate(n=Max("version"))["n"]
    return SectionVersion.objects.create(
        section_id=section.pk,
        company_id=section.company_id,
        version=(last or 0) + 1,
        title=stored["title"],
        content=stored["content"] or "",
        source_versions=stored["source_versions"] or {},
        reason=reason,
        replaced_by=user if getattr(user, "is_authenticated", False) else None,
    )


def edit_section(
    company, section_id, *, content: str, title: str | None = None, user=None, request=None
) -> Section:
    """Save a person's edit of the company's section: the previous text is kept as a
    version, and a reviewed section is no longer reviewed."""
    with transaction.atomic():
        section = (
            Section.objects.for_company(company)
            .select_for_update(of=("self",))
            .select_related("project")
            .get(pk=section_id)
        )
        if is_frozen(section.project):
            raise SectionFrozen(frozen_message(section.project))
        content = (content or "").replace("\r\n", "\n")
        title = section.title if title is None else title
        if content == (section.content or "") and title == section.title:
            return section
        keep_version(section, reason="edit", user=user)
        was_reviewed = section.reviewed
        section.content, section.title = content, title
        section.reviewed, section.reviewer, section.reviewed_at = False, None, None
        section.save(update_fields=["content", "title", "reviewed", "reviewer", "reviewed_at"])
        audit.record_object(
            "update",
            section,
            request=request,
            user=user,
            changes={
                "content": {"old": "…", "new": "…"},
                "reviewed": {"old": was_reviewed, "new": False},
            },
        )
    return section


def diff(section: Section) -> str:
    """A unified diff from the section's last kept version to its text ("" without one)."""
    last = SectionVersion.objects.filter(section_id=section.pk).order_by("-version").first()
    if last is None:
        return ""
    return "\n".join(
        difflib.unified_diff(
            (last.content or "").splitlines(),
            (section.content or "").splitlines(),
            fromfile=_("version %(n)d") % {"n": last.version},
            tofile=_("current text"),
            lineterm="",
        )
    )


@dataclass
class StaleSection:
    section: Section
    reasons: list[str]


def cited_past_projects(section: Section) -> dict[uuid.UUID, dict]:
    """The past projects a section cites, by id: the records generation kept
    (``source_past_projects``), any malformed one left out."""
    cited = {}
    for record in section.source_past_projects or []:
        if not isinstance(record, dict):
            continue
        try:
            cited[uuid.UUID(str(record.get("id")))] = record
        except ValueError:
            continue
    return cited


def stale_sections(company, project: Project) -> list[StaleSection]:
    """The project's sections written from blocks that changed, were deactivated or
    expired since, or citing past projects that changed or may no longer be cited (none
    once the project is submitted)."""
    if is_frozen(project):
        return []
    sections = list(
        Section.objects.for_company(company).filter(project_id=project.pk).order_by("order_num")
    )
    ids = {bid for s in sections for bid in (s.source_versions or {})}
    cited = {s.pk: cited_past_projects(s) for s in sections}
    if not ids and not any(cited.values()):
        return []
    past_projects = {
        p.pk: p
        for p in PastProject.objects.for_company(company)
        .filter(pk__in={i for records in cited.values() for i in records})
        .only("pk", "name", "client", "year", "is_referenceable")
    }
    blocks = {
        str(b.pk): b
        for b in ContentBlock.objects.for_company(company)
        .filter(pk__in=ids)
        .only("pk", "title", "version", "is_active", "valid_until")
    }
    on = needed_on(project)
    found = []
    for section in sections:
        reasons = []
        for block_id, version in (section.source_versions or {}).items():
            block = blocks.get(block_id)
            if block is None:
                reasons.append(_("a source block was deleted"))
            elif not block.is_active:
                reasons.append(_("“%(block)s” was deactivated") % {"block": block.title})
            elif block.version != version:
                reasons.append(
                    _("“%(block)s” changed (version %(old)d → %(new)d)")
                    % {"block": block.title, "old": version, "new": block.version}
                )
            elif block.valid_until is not None and block.valid_until < on:
                reasons.append(
                    _("“%(block)s” expires on %(date)s")
                    % {"block": block.title, "date": block.valid_until.strftime("%d/%m/%Y")}
                )
        for past_id, record in cited[section.pk].items():
            past = past_projects.get(past_id)
            if past is None:
                reasons.append(_("a cited past project was deleted"))
            elif not past.is_referenceable:
                reasons.append(_("“%(name)s” may no longer be cited") % {"name": past.name})
            elif (past.name, past.client or "", past.year) != (
                record.get("name"),
                record.get("client") or "",
                record.get("year"),
            ):
                reasons.append(_("“%(name)s” changed") % {"name": past.name})
        if reasons:
            found.append(StaleSection(section, reasons))
    return found
