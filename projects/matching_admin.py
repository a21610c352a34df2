"""The admin's matching pages of a project: the approval page (proposals grouped by
criterion — blocks, past projects and memoir passages —, one click to approve or reject,
a block added from the library by title or a past project by name, the override asked
for outdated content), the run button, and the matching and coverage panel of the
project's change page. ``ProjectAdmin`` routes to these views."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jobs.models import Job, JobKind
from library.models import ContentBlock, PastProject
from projects import coverage as coverage_module
from projects import matching, services
from projects.models import ContentMatch, RCAnalysis
from projects.rc import storage

#: Library blocks (and past projects) listed by a search on the approval page.
SEARCH_RESULTS = 20


def urls(model_admin) -> list:
    view = model_admin.admin_site.admin_view
    return [
        path(
            "<path:object_id>/matching/",
            view(lambda request, object_id: approval_view(model_admin, request, object_id)),
            name="projects_project_matching",
        ),
        path(
            "<path:object_id>/matching/run/",
            view(lambda request, object_id: run_view(model_admin, request, object_id)),
            name="projects_project_matching_run",
        ),
        path(
            "<path:object_id>/matching/decide/",
            view(lambda request, object_id: decide_view(model_admin, request, object_id)),
            name="projects_project_matching_decide",
        ),
    ]


def _project(model_admin, request, object_id, *, change: bool):
    project = model_admin.get_object(request, object_id)
    if project is None:
        raise Http404(_("This project does not exist."))
    allowed = (
        model_admin.has_change_permission(request, project)
        if change
        else model_admin.has_view_permission(request, project)
    )
    if not allowed:
        raise PermissionDenied
    return project


def _page_url(project, **query) -> str:
    url = reverse("admin:projects_project_matching", args=[project.pk])
    if query:
        from urllib.parse import urlencode

        url += "?" + urlencode(query)
    return url


# --- the page ----------------------------------------------------------------------------


def _groups(company, project, analysis_row, rows) -> list[dict]:
    """The requirements grouped by top-level criterion, each with its rows."""
    analysis = storage.from_row(analysis_row)
    by_requirement: dict[str, list] = {}
    for row in rows:
        by_requirement.setdefault(row.requirement_id, []).append(row)
    groups, placed = [], set()
    top_of: dict[str, str] = {}
    for criterion in analysis.criteria:
        if criterion.kind == "price":
            continue
        requirements = []
        for node in criterion.walk():
            top_of[node.id] = criterion.id
            requirements.append({"id": node.id, "name": node.name, "level": node.level, "rows": []})
        groups.append({"criterion": criterion, "requirements": requirements})
    contents_elsewhere = []
    for content in analysis.required_contents:
        entry = {"id": content.id, "name": content.text, "level": "content", "rows": []}
        top = top_of.get(content.criterion or "")
        group = next((g for g in groups if g["criterion"].id == top), None)
        if group is not None:
            group["requirements"].append(entry)
        else:
            contents_elsewhere.append(entry)
    if contents_elsewhere:
        groups.append({"criterion": None, "requirements": contents_elsewhere})
    for group in groups:
        for entry in group["requirements"]:
            entry["rows"] = by_requirement.get(entry["id"], [])
            placed.add(entry["id"])
    return groups


def _decorate(company, project, rows) -> None:
    """Blocks, past projects and passages of the rows, read in three queries."""
    from rag.models import DocumentChunk

    block_ids = {b for row in rows for b in (row.matched_blocks or [])}
    blocks = {
        b.pk: b
        for b in ContentBlock.objects.for_company(company)
        .filter(pk__in=block_ids)
        .only("pk", "title", "type", "valid_until", "is_active")
    }
    chunk_ids = {row.passage_chunk_id for row in rows if row.passage_chunk_id}
    chunks = {
        c.pk: c
        for c in DocumentChunk.objects.for_company(company)
        .filter(pk__in=chunk_ids)
        .select_related("memoire")
    }
    past_ids = {row.past_project_id for row in rows if row.past_project_id}
    past_projects = {
        p.pk: p
        for p in PastProject.objects.for_company(company)
        .filter(pk__in=past_ids)
        .only("pk", "name", "client", "year", "is_referenceable")
    }
    day = services.needed_on(project)
    for row in rows:
        row.past = past_projects.get(row.past_project_id) if row.past_project_id else None
        row.blocks = [blocks[b] for b in (row.matched_blocks or []) if b in blocks]
        row.outdated = any(b.valid_until and b.valid_until < day for b in row.blocks)
        row.passage = chunks.get(row.passage_chunk_id) if row.passage_chunk_id else None
        row.percent = None if row.confidence is None else round(row.confidence * 100)


def approval_view(model_admin, request, object_id, *, extra: dict | None = None):
    project = _project(model_admin, request, object_id, change=False)
    company = project.company_id
    can_change = model_admin.has_change_permission(request, project)
    analysis_row = RCAnalysis.objects.for_company(company).filter(project=project).first()
    rows = list(
        ContentMatch.objects.for_company(company)
        .filter(project=project)
        .order_by("requirement_id", "rejected", "-approved", "-confidence")
    )
    _decorate(company, project, rows)
    job = (
        Job.objects.for_company(company)
        .of(project)
        .filter(kind=JobKind.MATCHING)
        .order_by("-created_at")
        .first()
    )
    search = (request.GET.get("search") or "").strip()[:200]
    results, past_results = [], []
    if search and can_change:
        results = list(
            ContentBlock.objects.for_company(company)
            .filter(title__icontains=search, is_active=True)
            .order_by("title")
            .only("pk", "title", "type", "valid_until")[:SEARCH_RESULTS]
        )
        past_results = list(
            PastProject.objects.for_company(company)
            .filter(name__icontains=search, is_referenceable=True)
            .order_by("name", "pk")
            .only("pk", "name", "client", "year")[:SEARCH_RESULTS]
        )
    groups = _groups(company, project, analysis_row, rows) if analysis_row else []
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Content for “%(project)s”") % {"project": project},
        "opts": model_admin.opts,
        "project": project,
        "groups": groups,
        "can_change": can_change,
        "can_run": can_change and analysis_row is not None and project.status in matching.MATCHABLE,
        "analysis": analysis_row,
        "state": (project.metadata or {}).get("matching") or {},
        "progress": render_to_string("jobs/progress.html", {"job": job, "reload": True})
        if job is not None and not job.finished
        else "",
        "search": search,
        "search_requirement": request.GET.get("requirement", ""),
        "results": results,
        "past_results": past_results,
        "requirements": [r for g in groups for r in g["requirements"]],
        "needed_on": services.needed_on(project),
        "today": timezone.localdate(),
        "reason_max": services.OVERRIDE_REASON_MAX,
        **(extra or {}),
    }
    return TemplateResponse(request, "admin/projects/project/matching.html", context)


def run_view(model_admin, request, object_id):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    project = _project(model_admin, request, object_id, change=True)
    try:
        matching.queue_matching(project.company_id, project, user=request.user, request=request)
    except matching.MatchingRefused as refused:
        model_admin.message_user(request, str(refused), messages.WARNING)
    else:
        model_admin.message_user(
            request, _("Matching is queued: this page shows its progress."), messages.INFO
        )
    return HttpResponseRedirect(_page_url(project))


def decide_view(model_admin, request, object_id):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    project = _project(model_admin, request, object_id, change=True)
    company = project.company_id
    decision = request.POST.get("decision", "")
    if decision == "add":
        requirement = request.POST.get("requirement", "")
        try:
            if "past_project" in request.POST:
                match = matching.add_past_project(
                    company, project, requirement, request.POST.get("past_project")
                )
            else:
                match = matching.add_block(company, project, requirement, request.POST.get("block"))
        except (LookupError, ValueError, ContentBlock.DoesNotExist) as refused:
            message = refused.args[0] if isinstance(refused, LookupError) else None
            model_admin.message_user(
                request, message or _("This content block does not exist."), messages.ERROR
            )
            return HttpResponseRedirect(_page_url(project))
        decision = "approve"
    else:
        try:
            match = matching.match_of(company, project, request.POST.get("match", ""))
        except ContentMatch.DoesNotExist:
            raise Http404(_("This content match does not exist.")) from None
    if decision == "approve":
        overriding = request.POST.get("override") == "yes"
        reason = (request.POST.get("override_reason") or "").strip() if overriding else ""
        try:
            matching.approve(company, match, request=request, override_reason=reason)
        except services.OutdatedContent as refused:
            return approval_view(
                model_admin,
                request,
                object_id,
                extra={
                    "override_match": match.pk,
                    "outdated": refused.outdated,
                    "reason_missing": overriding,
                },
            )
        model_admin.message_user(request, _("Content approved."), messages.SUCCESS)
    elif decision == "reject":
        matching.reject(company, match, request=request)
        model_admin.message_user(request, _("Proposal rejected."), messages.SUCCESS)
    else:
        model_admin.message_user(request, _("Unknown decision."), messages.ERROR)
    return HttpResponseRedirect(_page_url(project) + f"#req-{match.requirement_id}")


# --- the panel of the project's change page ------------------------------------------------


def panel(project) -> str:
    """Matching's state, the link to the approval page and the coverage by points."""
    if project is None or project.pk is None:
        return "—"
    company = project.company_id
    job = (
        Job.objects.for_company(company)
        .of(project)
        .filter(kind=JobKind.MATCHING)
        .order_by("-created_at")
        .first()
    )
    context = {
        "project": project,
        "coverage": coverage_module.coverage(company, project),
        "state": (project.metadata or {}).get("matching") or {},
        "page_url": _page_url(project),
        "progress": render_to_string("jobs/progress.html", {"job": job, "reload": True})
        if job is not None and not job.finished
        else "",
    }
    return render_to_string("admin/projects/project/matching_panel.html", context)
