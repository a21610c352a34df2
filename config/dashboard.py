"""The admin's start page: what a bid manager has to do next, for their company.

Projects in progress with their step, next action and deadline (closest first);
library blocks expired or expiring soon; memoirs still indexing or whose indexing
failed; the month's generation spend against the company's budget; recent activity.
A platform superuser sees every company's. A fixed number of queries whatever the
company's size (each list is capped).

The monthly budget is the cost part of the company's generation budget, the one
generation enforces (``Company.settings["generation_budget"]["monthly_cost_usd"]``,
US dollars per calendar month, projects/memoir/budget.py); without it the spend is
shown alone.
"""

from __future__ import annotations

import datetime
import decimal
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.admin_base.scoping import is_platform_admin, scope_queryset

#: How far ahead the library's validity is watched.
EXPIRY_HORIZON_DAYS = 60
#: Rows of each list.
LIMIT = 10

#: What to do at each step of a project (``projects.models.ProjectStatus``).
NEXT_ACTIONS = {
    "draft": _("Upload the RC (regulations of the consultation) and analyse it"),
    "draft_with_rc": _("Analyse the RC uploaded"),
    "rc_analyzing": _("Wait for the RC analysis to finish"),
    "rc_analyzed": _("Check the RC analysis, then match the library’s content"),
    "matching": _("Wait for the content matching to finish"),
    "matched": _("Approve the matched content, then generate the sections"),
    "generating": _("Wait for the generation to finish"),
    "generated": _("Review the generated sections"),
    "reviewing": _("Finish the review of the sections"),
    "completed": _("Export the memoir and submit the bid"),
}
#: Steps after which a project is no longer in progress.
DONE_STATUSES = ("submitted",)


@dataclass
class Spend:
    company: str | None
    spent: decimal.Decimal
    budget: decimal.Decimal | None

    @property
    def percent(self) -> int | None:
        if not self.budget:
            return None
        return round(self.spent * 100 / self.budget)

    @property
    def over(self) -> bool:
        return self.budget is not None and self.spent > self.budget


def _budget(company) -> decimal.Decimal | None:
    """The monthly cost limit generation enforces (projects/memoir/budget.py)."""
    from projects.memoir import budget

    return budget.budget_of(company).cost_usd


def _can(request, model, action: str = "view") -> bool:
    return request.user.has_perm(f"{model._meta.app_label}.{action}_{model._meta.model_name}")


def projects_in_progress(request) -> list:
    from projects.models import DocumentKind, Project, ProjectDocument

    if not _can(request, Project):
        return []
    rc_uploaded = ProjectDocument.objects.filter(project_id=OuterRef("pk"), kind=DocumentKind.RC)
    rows = list(
        scope_queryset(request, Project.objects.all())
        .exclude(status__in=DONE_STATUSES)
        .select_related("company")
        .only("id", "name", "status", "deadline", "company__name")
        .annotate(has_rc=Exists(rc_uploaded))
        .order_by("deadline", "-created_at")[:LIMIT]
    )
    for project in rows:
        step = "draft_with_rc" if project.status == "draft" and project.has_rc else project.status
        project.next_action = NEXT_ACTIONS.get(step, "")
        project.url = reverse("admin:projects_project_change", args=[project.pk])
    # Closest deadline first, projects without one last (PostgreSQL puts NULLs last
    # in ascending order).
    return rows


def library_expiring(request) -> list:
    from library.models import ContentBlock

    if not _can(request, ContentBlock):
        return []
    today = timezone.localdate()
    rows = list(
        scope_queryset(request, ContentBlock.objects.all())
        .filter(
            is_active=True,
            valid_until__isnull=False,
            valid_until__lte=today + datetime.timedelta(days=EXPIRY_HORIZON_DAYS),
        )
        .select_related("company")
        .only("id", "title", "type", "valid_until", "company__name")
        .order_by("valid_until")[:LIMIT]
    )
    for block in rows:
        block.expired = block.valid_until < today
        block.url = reverse("admin:library_contentblock_change", args=[block.pk])
    return rows


def memoirs_pending(request) -> list:
    from jobs.models import Job
    from rag.models import Memoire

    if not _can(request, Memoire):
        return []
    rows = list(
        scope_queryset(request, Memoire.objects.all())
        .filter(Q(indexed=False) | Q(indexed__isnull=True) | Q(metadata__index__status="failed"))
        .select_related("company")
        .only("id", "filename", "indexed", "metadata", "company__name")
        .order_by("-created_at")[:LIMIT]
    )
    running = (
        set(
            scope_queryset(request, Job.objects.all())
            .filter(target_type=Memoire._meta.label_lower, target_id__in=[m.pk for m in rows])
            .unfinished()
            .values_list("target_id", flat=True)
        )
        if rows
        else set()
    )
    for memoire in rows:
        index = (memoire.metadata or {}).get("index") or {}
        memoire.failed = index.get("status") == "failed" and memoire.pk not in running
        memoire.error = index.get("error") if memoire.failed else ""
        memoire.url = reverse("admin:rag_memoire_change", args=[memoire.pk])
    return rows


def generation_spend(request) -> list[Spend]:
    from projects.memoir import budget
    from projects.models import GenerationRequest
    from tenants.models import Company

    if not _can(request, GenerationRequest):
        return []
    spent = (
        scope_queryset(request, GenerationRequest.objects.all())
        .filter(created_at__gte=budget.month_start())
        .order_by()
        .values("company_id")
        .annotate(total=Sum("cost_usd"))
    )
    totals = {row["company_id"]: row["total"] or decimal.Decimal(0) for row in spent}
    if is_platform_admin(request.user):
        companies = Company.objects.filter(
            Q(pk__in=totals.keys()) | Q(settings__has_key=budget.SETTING)
        ).order_by("name")[:LIMIT]
        return [Spend(c.name, totals.get(c.pk, decimal.Decimal(0)), _budget(c)) for c in companies]
    company = request.user.company
    return [Spend(None, totals.get(company.pk, decimal.Decimal(0)), _budget(company))]


def recent_activity(request) -> list | None:
    """The company's latest audit entries (None for those who may not read the trail)."""
    from audit import presentation
    from audit.models import AuditLog

    if not _can(request, AuditLog):
        return None
    rows = list(scope_queryset(request, AuditLog.objects.all()).order_by("-timestamp")[:LIMIT])
    presentation.describe(rows, request)
    for row in rows:
        row.when = presentation.local(row.timestamp)
    return rows


def context(request) -> dict:
    from projects.models import Project

    platform = is_platform_admin(request.user)
    return {
        "platform_view": platform,
        # A viewer follows the projects; the next action is for those who act.
        "can_act": _can(request, Project, "change"),
        "projects_in_progress": projects_in_progress(request),
        "library_expiring": library_expiring(request),
        "memoirs_pending": memoirs_pending(request),
        "spend": generation_spend(request),
        "recent_activity": recent_activity(request),
        "expiry_horizon": EXPIRY_HORIZON_DAYS,
        "month": timezone.localdate().replace(day=1),
    }
