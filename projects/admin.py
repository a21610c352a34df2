from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, F, OuterRef, Subquery, Sum
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from library.models import ContentBlock
from projects import services, workflow
from projects.models import (
    ContentMatch,
    GenerationRequest,
    Project,
    ProjectStatus,
    RCAnalysis,
    Section,
)
from tenants.admin_base import (
    TenantScopedAdmin,
    TenantScopedInline,
    companies_of,
    scope_queryset,
)


class SectionInline(TenantScopedInline, admin.TabularInline):
    model = Section
    fields = ("order_num", "section_type", "title", "generated_by_ai", "reviewed", "quality_score")
    readonly_fields = ("reviewed",)
    ordering = ("order_num",)


class RCAnalysisInline(TenantScopedInline, admin.StackedInline):
    model = RCAnalysis
    max_num = 1
    fields = (
        "rc_file_url",
        "confidence_score",
        "project_info",
        "required_sections",
        "special_requirements",
        "format",
        "scoring_criteria",
    )


def _transition_action(target: str):
    def action(modeladmin, request, queryset):
        try:
            with transaction.atomic():  # all the selected projects, or none
                moved = sum(
                    workflow.move(
                        company, queryset.filter(company_id=company), target, request=request
                    )
                    for company in companies_of(request, queryset)
                )
        except workflow.TransitionRefused as refused:
            modeladmin.message_user(request, str(refused), messages.ERROR)
            return
        modeladmin.message_user(
            request,
            ngettext(
                "%(count)d project moved to “%(status)s”.",
                "%(count)d projects moved to “%(status)s”.",
                moved,
            )
            % {"count": moved, "status": ProjectStatus(target).label},
            messages.SUCCESS,
        )

    action.__name__ = f"move_to_{target}"
    return admin.action(
        permissions=["change"],
        description=_("Move to “%(status)s”") % {"status": ProjectStatus(target).label},
    )(action)


@admin.register(Project)
class ProjectAdmin(TenantScopedAdmin):
    creator_field = "created_by"
    list_display = ("name", "client", "status", "lot", "deadline", "created_at")
    list_filter = ("status", "project_type", "created_by")
    # French full-text search (see ProjectQuerySet.matching).
    search_fields = ("name", "client", "location", "lot")
    search_help_text = _(
        "Words of the name, client, location or lot; accents and plurals are ignored."
    )
    ordering = ("-created_at",)
    date_hierarchy = "created_at"
    readonly_fields = ("status", "workflow_links", "created_at")
    inlines = (RCAnalysisInline, SectionInline)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "company",
                    "name",
                    "client",
                    "location",
                    "lot",
                    "project_type",
                    "size",
                    "deadline",
                )
            },
        ),
        (_("Workflow"), {"fields": ("status", "workflow_links")}),
        (
            _("Tender documents"),
            {"fields": ("rc_storage_path", "rc_context", "final_document_url")},
        ),
        (
            _("Other"),
            {"fields": ("metadata", "created_by", "created_at"), "classes": ("collapse",)},
        ),
    )
    change_form_template = "admin/projects/project/change_form.html"

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.has_change_permission(request):
            for target in ProjectStatus.values:
                func = _transition_action(target)
                actions[func.__name__] = (func, func.__name__, func.short_description)
        return actions

    @admin.display(description=_("Workflow"))
    def workflow_links(self, obj) -> str:
        if obj is None or obj.pk is None:
            return "—"
        counts = Project.objects.filter(pk=obj.pk).aggregate(
            matches=Count("content_matches", distinct=True),
            generations=Count("generation_requests", distinct=True),
        )
        links = [
            (
                reverse("admin:projects_contentmatch_changelist"),
                obj.pk,
                _("Content matches"),
                counts["matches"],
            ),
            (
                reverse("admin:projects_generationrequest_changelist"),
                obj.pk,
                _("Generation requests"),
                counts["generations"],
            ),
        ]
        return format_html_join(" · ", '<a href="{}?project__id__exact={}">{} ({})</a>', links)

    # --- status buttons on the change page ----------------------------------------
    def get_urls(self):
        return [
            path(
                "<path:object_id>/transition/",
                self.admin_site.admin_view(self.transition_view),
                name="projects_project_transition",
            ),
            *super().get_urls(),
        ]

    def transition_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        project = self.get_object(request, object_id)
        if project is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, project):
            raise PermissionDenied
        target = request.POST.get("target", "")
        if target not in ProjectStatus.values:
            self.message_user(request, _("Unknown status."), messages.ERROR)
        else:
            try:
                workflow.move(project.company_id, project, target, request=request)
                self.message_user(
                    request,
                    _("“%(project)s” moved to “%(status)s”.")
                    % {"project": project, "status": ProjectStatus(target).label},
                    messages.SUCCESS,
                )
            except workflow.TransitionRefused as refused:
                self.message_user(request, str(refused), messages.ERROR)
        return HttpResponseRedirect(reverse("admin:projects_project_change", args=[project.pk]))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and self.has_change_permission(request, obj):
            context["transitions"] = [
                (target, ProjectStatus(target).label)
                for target in workflow.allowed_targets(obj.status)
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(Section)
class SectionAdmin(TenantScopedAdmin):
    list_display = (
        "title",
        "project",
        "section_type",
        "order_num",
        "generated_by_ai",
        "quality_score",
        "reviewed",
        "reviewer",
    )
    list_filter = ("reviewed", "generated_by_ai", "section_type", "reviewer")
    search_fields = ("title", "content", "project__name")
    autocomplete_fields = ("project",)
    ordering = ("project", "order_num")
    date_hierarchy = "created_at"
    list_select_related = ("project", "reviewer")
    readonly_fields = ("reviewed", "reviewer", "reviewed_at", "created_at")
    actions = ("mark_reviewed",)

    @admin.action(permissions=["change"], description=_("Mark reviewed"))
    def mark_reviewed(self, request, queryset):
        count = sum(
            services.mark_reviewed(company, queryset, user=request.user, request=request)
            for company in companies_of(request, queryset)
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d section marked reviewed.", "%(count)d sections marked reviewed.", count
            )
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(RCAnalysis)
class RCAnalysisAdmin(TenantScopedAdmin):
    list_display = ("project", "confidence_score", "analyzed_at")
    search_fields = ("project__name", "rc_file_url")
    autocomplete_fields = ("project",)
    ordering = ("-analyzed_at",)
    date_hierarchy = "analyzed_at"
    list_select_related = ("project",)
    readonly_fields = ("analyzed_at", "created_at")


class ContentMatchForm(forms.ModelForm):
    """Refuses to add outdated content to an approved match (approving it needed the
    same check: see services.set_approval)."""

    class Meta:
        model = ContentMatch
        fields = (
            "project",
            "requirement_id",
            "matched_blocks",
            "confidence",
            "match_reason",
            "needs_generation",
            "needs_upload",
        )

    def clean(self):
        cleaned = super().clean()
        project = cleaned.get("project")
        blocks = cleaned.get("matched_blocks") or []
        if not (self.instance.pk and self.instance.approved and project):
            return cleaned
        added = set(blocks) - set(self.instance.matched_blocks or [])
        if "matched_blocks" not in self.changed_data or not added:
            return cleaned
        row = SimpleNamespace(
            pk=self.instance.pk,
            requirement_id=cleaned.get("requirement_id") or self.instance.requirement_id,
            matched_blocks=list(added),
            project=project,
        )
        outdated = services.outdated_in(project.company_id, [row], timezone.localdate())
        if outdated:
            self.add_error(
                "matched_blocks",
                forms.ValidationError(
                    _(
                        "This match is approved and %(blocks)s will not be valid on "
                        "%(date)s: reject the match first, then approve it with a reason."
                    )
                    % {
                        "blocks": ", ".join(f"« {o.title} »" for o in outdated),
                        "date": outdated[0].needed_on.strftime("%d/%m/%Y"),
                    },
                    code="outdated",
                ),
            )
        return cleaned


@admin.register(ContentMatch)
class ContentMatchAdmin(TenantScopedAdmin):
    form = ContentMatchForm
    list_display = (
        "requirement_id",
        "project",
        "matched_block_titles",
        "confidence",
        "needs_generation",
        "needs_upload",
        "approved",
    )
    list_filter = ("approved", "needs_generation", "needs_upload", "project")
    search_fields = ("requirement_id", "match_reason", "project__name")
    autocomplete_fields = ("project",)
    ordering = ("project", "requirement_id")
    date_hierarchy = "created_at"
    list_select_related = ("project",)
    # Approval goes through the approve/reject actions (services.set_approval), which
    # refuse expired content without an audited override: not a checkbox of the form.
    readonly_fields = ("approved", "matched_block_titles", "created_at")
    actions = ("approve", "reject")

    def annotate_page(self, request, rows) -> None:
        _attach_block_titles(request, rows, "matched_blocks")

    @admin.display(description=_("matched blocks"))
    def matched_block_titles(self, obj) -> str:
        titles = getattr(obj, "_block_titles", None)
        if titles is None:
            _attach_block_titles(None, [obj], "matched_blocks", company_id=obj.project.company_id)
            titles = obj._block_titles
        return format_html_join(", ", "{}", ((t,) for t in titles)) or "—"

    @admin.action(permissions=["change"], description=_("Approve the selected matches"))
    def approve(self, request, queryset):
        """Approve; a selection with expired content (or content expiring before the
        project's deadline) goes through a page that asks for the override's reason."""
        overriding = request.POST.get("override") == "yes"
        reason = request.POST.get("override_reason", "").strip() if overriding else ""
        try:
            with transaction.atomic():  # all the selected matches, or none
                count = sum(
                    services.set_approval(
                        company, queryset, True, request=request, override_reason=reason
                    )
                    for company in companies_of(request, queryset)
                )
        except services.OutdatedContent as refused:
            return TemplateResponse(
                request,
                "admin/projects/contentmatch/approve_override.html",
                {
                    **self.admin_site.each_context(request),
                    "title": _("Approve expired content?"),
                    "opts": self.opts,
                    "outdated": refused.outdated,
                    "selected": [str(pk) for pk in queryset.values_list("pk", flat=True)],
                    "reason": reason,
                    "reason_missing": overriding,
                    "reason_max": services.OVERRIDE_REASON_MAX,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                },
            )
        self.message_user(
            request,
            ngettext("%(count)d match approved.", "%(count)d matches approved.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(permissions=["change"], description=_("Reject the selected matches"))
    def reject(self, request, queryset):
        count = sum(
            services.set_approval(company, queryset, False, request=request)
            for company in companies_of(request, queryset)
        )
        self.message_user(
            request,
            ngettext("%(count)d match rejected.", "%(count)d matches rejected.", count)
            % {"count": count},
            messages.SUCCESS,
        )


def _attach_block_titles(request, rows, field: str, company_id=None) -> None:
    """Resolve the block ids of ``field`` to titles for all rows with one query."""
    ids = {block_id for row in rows for block_id in (getattr(row, field) or [])}
    blocks = ContentBlock.objects.filter(pk__in=ids)
    if request is not None:
        blocks = scope_queryset(request, blocks)
    elif company_id is not None:
        blocks = blocks.for_company(company_id)
    titles = dict(blocks.values_list("pk", "title")) if ids else {}
    for row in rows:
        row._block_titles = [titles[i] for i in (getattr(row, field) or []) if i in titles]


@admin.register(GenerationRequest)
class GenerationRequestAdmin(TenantScopedAdmin):
    list_display = (
        "section_type",
        "project",
        "status",
        "model_used",
        "tokens_used",
        "cost_usd",
        "project_cost",
        "latency_seconds",
        "created_at",
    )
    list_filter = ("status", "model_used", "project")
    search_fields = ("section_type", "project__name", "model_used")
    autocomplete_fields = ("project",)
    ordering = ("-created_at",)
    date_hierarchy = "created_at"
    list_select_related = ("project",)
    readonly_fields = ("created_at",)
    change_list_template = "admin/projects/generationrequest/change_list.html"

    def get_queryset(self, request):
        per_project = (
            GenerationRequest.objects.filter(project=OuterRef("project"))
            .order_by()
            .values("project")
            .annotate(total=Sum("cost_usd"))
            .values("total")
        )
        return super().get_queryset(request).annotate(project_total_cost=Subquery(per_project))

    @admin.display(description=_("project total (USD)"), ordering="project_total_cost")
    def project_cost(self, obj) -> Decimal | None:
        return obj.project_total_cost

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        cl = (
            getattr(response, "context_data", {}).get("cl")
            if hasattr(response, "context_data")
            else None
        )
        if cl is not None:
            filtered = cl.queryset.order_by()
            response.context_data["totals"] = filtered.aggregate(
                requests=Count("pk"), tokens=Sum("tokens_used"), cost=Sum("cost_usd")
            )
            response.context_data["company_totals"] = list(
                # By company, not by name: two companies may share a name.
                filtered.values("project__company", "project__company__name")
                .annotate(requests=Count("pk"), tokens=Sum("tokens_used"), cost=Sum("cost_usd"))
                .order_by(F("cost").desc(nulls_last=True), "project__company__name")[:20]
            )
        return response
