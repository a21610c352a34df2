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
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from jobs.models import Job, JobKind
from library.models import ContentBlock
from projects import matching, matching_admin, services, workflow
from projects.forms import (
    ProjectDocumentForm,
    ProjectForm,
    RCAnalysisAddForm,
    RCAnalysisReviewForm,
    SectionForm,
)
from projects.memoir.admin_views import (
    MemoirProjectAdminMixin,
    MemoirSectionAdminMixin,
    SpendAgainstBudgetMixin,
)
from projects.models import (
    ContentMatch,
    DocumentKind,
    GenerationRequest,
    MemoirExport,
    Project,
    ProjectDocument,
    ProjectStatus,
    RCAnalysis,
    Section,
    SectionVersion,
)
from projects.rc import review as rc_review
from projects.rc import services as rc_services
from projects.rc import storage as rc_storage
from projects.rc.tree import normalise
from tenants.admin_base import (
    TenantScopedAdmin,
    TenantScopedInline,
    companies_of,
    scope_queryset,
)


class SectionInline(TenantScopedInline, admin.TabularInline):
    model = Section
    form = SectionForm
    fields = ("order_num", "section_type", "title", "generated_by_ai", "reviewed", "quality_score")
    readonly_fields = ("generated_by_ai", "reviewed")
    ordering = ("order_num",)


class ProjectDocumentInline(TenantScopedInline, admin.TabularInline):
    """The project's consultation documents: listed and removed here, added through the
    project form's upload fields."""

    model = ProjectDocument
    fields = ("kind", "document_link", "size", "uploader", "created_at")
    readonly_fields = ("kind", "document_link", "size", "uploader", "created_at")
    ordering = ("-created_at",)
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("file"))
    def document_link(self, obj) -> str:
        if obj is None or obj.pk is None:
            return "—"
        url = reverse("admin:projects_projectdocument_download", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.filename)

    @admin.display(description=_("size"))
    def size(self, obj) -> str:
        return filesizeformat(obj.size_bytes) if obj and obj.size_bytes is not None else "—"

    @admin.display(description=_("uploaded by"))
    def uploader(self, obj) -> str:
        return str(obj.uploaded_by) if obj and obj.uploaded_by_id else "—"


def _transition_action(target: str):
    def action(modeladmin, request, queryset):
        try:
            with transaction.atomic():  # all the selected projects, or none
                moved = sum(
                    workflow.move(
                        company,
                        queryset.filter(company_id=company),
                        target,
                        request=request,
                        manual=True,
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


def queue_rc_analysis(model_admin, request, project, document=None) -> None:
    """Queue the analysis of the project's RC and tell the user, or why not."""
    try:
        rc_services.queue_analysis(
            project.company_id, project, document=document, user=request.user, request=request
        )
    except rc_services.AnalysisRefused as refused:
        model_admin.message_user(request, str(refused), messages.WARNING)
        return
    model_admin.message_user(
        request,
        _("The RC of “%(project)s” is queued for analysis: its page shows the progress.")
        % {"project": project},
        messages.INFO,
    )


@admin.register(Project)
class ProjectAdmin(MemoirProjectAdminMixin, TenantScopedAdmin):
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
    form = ProjectForm
    readonly_fields = (
        "status",
        "workflow_links",
        "rc_analysis_panel",
        "matching_panel",
        "rc_storage_path",
        "created_at",
    )
    inlines = (ProjectDocumentInline, SectionInline)
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
            _("Consultation documents and RC analysis"),
            {"fields": ("rc_document", "other_documents", "other_kind", "rc_analysis_panel")},
        ),
        (_("Content and coverage by points"), {"fields": ("matching_panel",)}),
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
            for target in workflow.MANUAL_STATUSES:
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

    # --- consultation documents and the RC analysis ---------------------------------
    def save_model(self, request, obj, form, change):
        if change:
            # What the analysis job writes in metadata is not the form's to overwrite.
            stored = Project.objects.filter(pk=obj.pk).values_list("metadata", flat=True).first()
            if isinstance(stored, dict) and "rc_analysis" in stored:
                obj.metadata = {**(obj.metadata or {}), "rc_analysis": stored["rc_analysis"]}
        super().save_model(request, obj, form, change)
        others = getattr(form, "checked_others", [])
        kind = form.cleaned_data.get("other_kind") or DocumentKind.OTHER
        for upload, checked in others:
            rc_services.attach(obj.company_id, obj, upload, checked, kind, user=request.user)
        upload = form.cleaned_data.get("rc_document")
        if upload:
            document = rc_services.attach(
                obj.company_id, obj, upload, form.checked_rc, DocumentKind.RC, user=request.user
            )
            queue_rc_analysis(self, request, obj, document)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if self.has_change_permission(request, obj) or (
            obj is None and self.has_add_permission(request)
        ):
            return fieldsets
        uploads = {"rc_document", "other_documents", "other_kind"}
        return [
            (name, {**opts, "fields": [f for f in opts["fields"] if f not in uploads]})
            for name, opts in fieldsets
        ]

    @admin.display(description=_("RC analysis"))
    def rc_analysis_panel(self, obj) -> str:
        if obj is None or obj.pk is None:
            return _("Upload the RC: its analysis starts when the project is saved.")
        state = (obj.metadata or {}).get("rc_analysis") or {}
        job = (
            Job.objects.for_company(obj.company_id)
            .of(obj)
            .filter(kind=JobKind.RC_ANALYSIS)
            .order_by("-created_at")
            .first()
        )
        analysis = RCAnalysis.objects.filter(project=obj).first()
        context = {"project": obj, "state": state, "job": job, "analysis": analysis}
        if job is not None and not job.finished:
            context["progress"] = render_to_string(
                "jobs/progress.html", {"job": job, "reload": True}
            )
        if analysis is not None:
            stored = rc_storage.from_row(analysis)
            context.update(
                {
                    "criteria": stored.criteria,
                    "tree_warnings": normalise(stored.criteria),
                    "facts": stored.facts,
                    "deadline": rc_review.display("deadline", stored.facts["deadline"].value),
                    "review_url": reverse("admin:projects_rcanalysis_change", args=[analysis.pk]),
                }
            )
        return render_to_string("admin/projects/project/rc_analysis_panel.html", context)

    @admin.display(description=_("Matching"))
    def matching_panel(self, obj) -> str:
        return matching_admin.panel(obj)

    def analyse_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        project = self.get_object(request, object_id)
        if project is None:
            return self.missing_object_response(request, object_id)
        if not self.has_change_permission(request, project):
            raise PermissionDenied
        queue_rc_analysis(self, request, project)
        return HttpResponseRedirect(reverse("admin:projects_project_change", args=[project.pk]))

    # --- status buttons on the change page ----------------------------------------
    def get_urls(self):
        return [
            path(
                "<path:object_id>/transition/",
                self.admin_site.admin_view(self.transition_view),
                name="projects_project_transition",
            ),
            path(
                "<path:object_id>/analyse-rc/",
                self.admin_site.admin_view(self.analyse_view),
                name="projects_project_analyse_rc",
            ),
            *matching_admin.urls(self),
            *super().get_urls(),
        ]

    def transition_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        project = self.get_object(request, object_id)
        if project is None:
            return self.missing_object_response(request, object_id)
        if not self.has_change_permission(request, project):
            raise PermissionDenied
        target = request.POST.get("target", "")
        if target not in ProjectStatus.values:
            self.message_user(request, _("Unknown status."), messages.ERROR)
        else:
            try:
                workflow.move(project.company_id, project, target, request=request, manual=True)
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
                for target in workflow.manual_targets(obj.status)
            ]
            context["can_analyse_rc"] = obj.status in rc_services.ANALYSABLE and (
                ProjectDocument.objects.filter(project=obj, kind=DocumentKind.RC).exists()
            )
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(Section)
class SectionAdmin(MemoirSectionAdminMixin, TenantScopedAdmin):
    form = SectionForm
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
    # The sources are the ids generation pinned: shown by title beside the text
    # (sources_panel), never typed as ids.
    exclude = ("source_blocks", "source_versions", "source_passages", "source_past_projects")
    readonly_fields = ("generated_by_ai", "reviewed", "reviewer", "reviewed_at", "created_at")
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
    """An analysis' page is its review form (``projects.rc.review``): key facts, the
    criteria tree and the required contents as rows, each with its source."""

    list_display = ("project", "criteria_summary", "deadline", "confidence_score", "analyzed_at")
    search_fields = ("project__name", "rc_file_url")
    autocomplete_fields = ("project",)
    ordering = ("-analyzed_at",)
    date_hierarchy = "analyzed_at"
    list_select_related = ("project",)
    fields = ("project",)
    form = RCAnalysisReviewForm
    change_form_template = "admin/projects/rcanalysis/change_form.html"

    @admin.display(description=_("criteria"))
    def criteria_summary(self, obj) -> str:
        criteria = rc_storage.from_row(obj).criteria
        return (
            ", ".join(
                f"{c.name} ({c.weight:g} {c.unit})" if c.weight is not None else c.name
                for c in criteria
            )
            or "—"
        )

    @admin.display(description=_("deadline"))
    def deadline(self, obj) -> str:
        return rc_review.display("deadline", rc_storage.from_row(obj).facts["deadline"].value)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = RCAnalysisAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.rc_file_url = ""
            obj.project_info = {"version": rc_storage.VERSION, "backend": "manual"}
            obj.scoring_criteria = {"version": rc_storage.VERSION, "criteria": []}
            super().save_model(request, obj, form, change)
            return
        super().save_model(request, obj, form, change)  # its project, if it changed
        rc_services.save_review(obj.project.company_id, obj, form.review.apply(), request=request)
        obj.refresh_from_db()
        self.message_user(
            request,
            _(
                "The analysis of “%(project)s” was saved: the project's empty fields were filled from it."
            )
            % {"project": obj.project},
            messages.SUCCESS,
        )

    def response_add(self, request, obj, post_url_continue=None):
        if "_popup" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(
            request,
            _("Enter the criteria and key facts of “%(project)s” below.")
            % {"project": obj.project},
            messages.INFO,
        )
        return HttpResponseRedirect(reverse("admin:projects_rcanalysis_change", args=[obj.pk]))

    def response_change(self, request, obj):
        if "_continue" in request.POST or "_popup" in request.POST:
            return super().response_change(request, obj)
        return HttpResponseRedirect(reverse("admin:projects_project_change", args=[obj.project_id]))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        form = context["adminform"].form
        review = getattr(form, "review", None)
        if obj is not None and review is not None:
            analysis = form.analysis
            tree = rc_review.preview_tree(review, analysis)
            context.update(
                {
                    "review": review,
                    "analysis": analysis,
                    "tree": tree,
                    "tree_warnings": normalise(tree),
                    "review_editable": self.has_change_permission(request, obj),
                    "project_url": reverse("admin:projects_project_change", args=[obj.project_id]),
                    "document_url": _document_url(obj),
                    "title": _("Review of the RC analysis"),
                    "show_save_and_add_another": False,
                }
            )
        return super().render_change_form(request, context, add, change, form_url, obj)


def _document_url(analysis: RCAnalysis) -> str | None:
    info = analysis.project_info if isinstance(analysis.project_info, dict) else {}
    document = (info.get("document") or {}).get("id")
    if not document:
        return None
    if not ProjectDocument.objects.filter(pk=document, project_id=analysis.project_id).exists():
        return None
    return reverse("admin:projects_projectdocument_download", args=[document])


@admin.register(ProjectDocument)
class ProjectDocumentAdmin(TenantScopedAdmin):
    form = ProjectDocumentForm
    creator_field = "uploaded_by"
    download_path_field = "storage_path"
    download_type_field = "content_type"
    list_display = ("filename", "project", "kind", "size", "uploaded_by", "created_at")
    list_filter = ("kind",)
    search_fields = ("filename", "project__name")
    autocomplete_fields = ("project",)
    ordering = ("-created_at",)
    date_hierarchy = "created_at"
    list_select_related = ("project", "uploaded_by")
    readonly_fields = ("filename", "download_link", "size", "sha256", "created_at")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["project", "kind", "upload"]
        return [
            "project",
            "kind",
            "filename",
            "download_link",
            "size",
            "sha256",
            "uploaded_by",
            "created_at",
        ]

    @admin.display(description=_("size"))
    def size(self, obj) -> str:
        return filesizeformat(obj.size_bytes) if obj and obj.size_bytes is not None else "—"

    @admin.display(description=_("file"))
    def download_link(self, obj) -> str:
        if obj is None or not obj.pk:
            return "—"
        url = reverse("admin:projects_projectdocument_download", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download"))

    def save_model(self, request, obj, form, change):
        upload = form.cleaned_data.get("upload")
        if not change and upload:
            rc_services.store(obj.project.company_id, obj, upload, form.checked)
        super().save_model(request, obj, form, change)
        if upload and obj.kind == DocumentKind.RC:
            rc_services.mark_rc(obj)
            queue_rc_analysis(self, request, obj.project, obj)


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
        requirement = cleaned.get("requirement_id")
        known = matching.requirement_ids(project.company_id, project) if project else None
        if requirement and known is not None and requirement not in known:
            self.add_error(
                "requirement_id",
                forms.ValidationError(
                    _(
                        "The RC analysis of this project has no requirement “%(id)s” (it has %(ids)s)."
                    )
                    % {"id": requirement, "ids": ", ".join(known) or "—"},
                    code="unknown_requirement",
                ),
            )
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
        "past_project",
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
    list_select_related = ("project", "past_project")
    # Approval goes through the approve/reject actions (services.set_approval), which
    # refuse expired content without an audited override: not a checkbox of the form.
    # A past project is proposed by matching or the approval page, not typed here.
    readonly_fields = ("approved", "matched_block_titles", "past_project", "created_at")
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
class GenerationRequestAdmin(SpendAgainstBudgetMixin, TenantScopedAdmin):
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


@admin.register(MemoirExport)
class MemoirExportAdmin(TenantScopedAdmin):
    """The Word exports of the memoirs: kept, never edited; downloaded through
    ``<id>/download/`` by members of the company only."""

    download_path_field = "storage_path"
    list_display = ("filename", "project", "page_estimate", "page_limit", "submitted", "created_at")
    list_filter = ("submitted",)
    search_fields = ("filename", "project__name")
    ordering = ("-created_at",)
    list_select_related = ("project",)
    readonly_fields = (
        "project",
        "filename",
        "download_link",
        "size_bytes",
        "sha256",
        "sections",
        "page_estimate",
        "page_limit",
        "warnings",
        "with_sources",
        "submitted",
        "created_by",
        "created_at",
    )
    fields = readonly_fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("file"))
    def download_link(self, obj) -> str:
        if obj is None or not obj.pk:
            return "—"
        url = reverse("admin:projects_memoirexport_download", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download"))


@admin.register(SectionVersion)
class SectionVersionAdmin(TenantScopedAdmin):
    """Earlier texts of the sections (kept on every generation and edit), read-only."""

    list_display = ("title", "section", "version", "reason", "replaced_by", "created_at")
    list_filter = ("reason",)
    search_fields = ("title", "content")
    ordering = ("-created_at",)
    list_select_related = ("section", "replaced_by")
    readonly_fields = (
        "section",
        "version",
        "title",
        "content",
        "source_versions",
        "reason",
        "replaced_by",
        "created_at",
    )
    fields = readonly_fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
