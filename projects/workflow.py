"""The tender workflow: which status a project may move to from each status.

draft → rc_analyzing → rc_analyzed → matching → matched → generating → generated →
reviewing → completed → submitted, with steps back where work is redone (a new RC,
matching again, generating again after review…). Submitted is final.

Three statuses are the time a background job works (``WORKED_BY_JOBS``): the job's
launcher enters them (analyse the RC, run the matching, generate the memoir) and the
job leaves them. A person's move (``manual=True``: the admin's buttons and actions)
never enters one, and leaves one only backwards, to cancel: a project moved to
"Matching content" by hand would wait there for a job nobody started.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from audit import services as audit
from projects.models import MemoirExport, Project, Section
from projects.models import ProjectStatus as S

TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.DRAFT: (S.RC_ANALYZING,),
    S.RC_ANALYZING: (S.RC_ANALYZED, S.DRAFT),
    S.RC_ANALYZED: (S.MATCHING, S.RC_ANALYZING),
    S.MATCHING: (S.MATCHED, S.RC_ANALYZED),
    S.MATCHED: (S.GENERATING, S.MATCHING),
    S.GENERATING: (S.GENERATED, S.MATCHED),
    S.GENERATED: (S.REVIEWING, S.GENERATING),
    S.REVIEWING: (S.COMPLETED, S.GENERATING),
    S.COMPLETED: (S.SUBMITTED, S.REVIEWING),
    S.SUBMITTED: (),
}


class TransitionRefused(Exception):
    """The move is not allowed; nothing was changed."""


def _every_section_reviewed(projects: list[Project]) -> None:
    """→ completed: every section of every project is reviewed (and there is one)."""
    ids = [p.pk for p in projects]
    with_sections = set(
        Section.objects.filter(project_id__in=ids).values_list("project_id", flat=True)
    )
    unreviewed = set(
        Section.objects.filter(project_id__in=ids, reviewed=False).values_list(
            "project_id", flat=True
        )
    )
    refused = [p for p in projects if p.pk in unreviewed or p.pk not in with_sections]
    if refused:
        raise TransitionRefused(
            _(
                "Cannot move to “Completed”: %(projects)s still has sections not reviewed "
                "(or none). Nothing was changed."
            )
            % {"projects": ", ".join(f"“{p.name}”" for p in refused[:5])}
        )


def _has_final_document(projects: list[Project]) -> None:
    """→ submitted: the project has its final document."""
    refused = [p for p in projects if not (p.final_document_url or "").strip()]
    if refused:
        raise TransitionRefused(
            _(
                "Cannot move to “Submitted”: %(projects)s has no final document (export the "
                "memoir first). Nothing was changed."
            )
            % {"projects": ", ".join(f"“{p.name}”" for p in refused[:5])}
        )


def _mark_submitted_exports(projects: list[Project]) -> None:
    """The latest export of each submitted project is the one sent."""
    for project in projects:
        latest = MemoirExport.objects.filter(project_id=project.pk).order_by("-created_at").first()
        if latest is not None:
            MemoirExport.objects.filter(pk=latest.pk).update(submitted=True)


#: What must hold before a project moves to a status.
GUARDS = {S.COMPLETED: _every_section_reviewed, S.SUBMITTED: _has_final_document}


#: The statuses a job works in, and the status its success moves the project to.
WORKED_BY_JOBS = {
    S.RC_ANALYZING: S.RC_ANALYZED,
    S.MATCHING: S.MATCHED,
    S.GENERATING: S.GENERATED,
}


def allowed_targets(status: str) -> tuple[str, ...]:
    return TRANSITIONS.get(status, ())


def manual_targets(status: str) -> tuple[str, ...]:
    """The moves a person may make from ``status`` (the others are made by jobs)."""
    return tuple(
        target
        for target in allowed_targets(status)
        if target not in WORKED_BY_JOBS and WORKED_BY_JOBS.get(status) != target
    )


#: Every status a person's move may lead to.
MANUAL_STATUSES = tuple(
    status for status in S.values if any(status in manual_targets(s) for s in S.values)
)


def can_move(status: str, target: str, *, manual: bool = False) -> bool:
    return target in (manual_targets(status) if manual else allowed_targets(status))


def move(
    company,
    projects: Iterable[Project | object] | Project,
    target: str,
    *,
    request=None,
    manual: bool = False,
) -> int:
    """Move every project of ``company`` listed (instances or ids) to ``target``, all or
    none; ``manual`` for a person's move, which may not enter or complete a job's status.

    The rows are locked first, so two people moving the same project at once cannot
    both succeed from the same starting status. An id the company has no project for
    refuses the whole move, as an unknown id would. Returns how many projects moved.
    """
    if isinstance(projects, Project):
        projects = [projects]
    ids = {getattr(p, "pk", p) for p in projects}
    target_label = S(target).label
    with transaction.atomic():
        locked = list(
            Project.objects.for_company(company)
            .select_for_update(of=("self",))
            .filter(pk__in=ids)
            .order_by("pk")
        )
        if len(locked) != len(ids):
            raise TransitionRefused(_("Unknown project. Nothing was changed."))
        if manual and target in WORKED_BY_JOBS:
            raise TransitionRefused(
                _(
                    "“%(target)s” starts with its work: use the project page's button "
                    "(analyse the RC, run the matching, generate the memoir). Nothing was "
                    "changed."
                )
                % {"target": target_label}
            )
        refused = [p for p in locked if not can_move(p.status, target, manual=manual)]
        if refused:
            names = ", ".join(
                _("“%(name)s” (%(status)s)") % {"name": p.name, "status": S(p.status).label}
                for p in refused[:5]
            ) + ("…" if len(refused) > 5 else "")
            raise TransitionRefused(
                _("Cannot move to “%(target)s”: %(projects)s. Nothing was changed.")
                % {"target": target_label, "projects": names}
            )
        if target in GUARDS:
            GUARDS[target](locked)
        Project.objects.filter(pk__in=[p.pk for p in locked]).update(status=target)
        if target == S.SUBMITTED:
            _mark_submitted_exports(locked)
        audit.record_objects(
            "transition",
            locked,
            request=request,
            details_for=lambda project: {
                "changes": {"status": {"old": project.status, "new": target}}
            },
        )
    return len(locked)
