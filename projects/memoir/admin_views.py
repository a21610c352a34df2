"""The memoir's part of the project admin: the workflow panel of the project page (steps,
next action, job progress, sections with their review state, stale sections, exports),
the generate and export buttons, and the freeze of a submitted project."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from jobs.models import Job, JobKind
from projects.memoir import backends, export, generation, review
from projects.models import (
    ContentMatch,
    MemoirExport,
    ProjectStatus,
    RCAnalysis,
    Section,
    SectionVersion,
)

S = ProjectStatus
#: The steps of the project page, with the status from which each is done.
STEPS = (
    ("rc", _("RC"), S.RC_ANALYZING),
    ("analysis", _("Analysis"), S.RC_ANALYZED),
    ("matching", _("Matching"), S.MATCHED),
    ("generation", _("Generation"), S.GENERATED),
    ("review", _("Review"), S.COMPLETED),
    ("document", _("Document"), None),
    ("submitted", _("Submitted"), S.SUBMITTED),
)
ORDER = {status: index for index, status in enumerate(S.values)}


def steps_of(project, *, has_rc: bool, has_document: bool) -> list[dict]:
    position = ORDER[project.status]
    found, current_set = [], False
    for key, label, done_from in STEPS:
        if key == "rc":
            done = has_rc
        elif key == "document":
            done = has_document
        else:
            done = position >= ORDER[done_from]
        state = "done" if done else ("current" if not current_set else "todo")
        if state == "current":
            current_set = True
        found.append({"key": key, "label": label, "state": state})
    return found


def _cascaded_records(perms_needed: set, *models) -> set:
    """Deleting a section or a project deletes its versions and exports with it: rows
    kept for the record, never deleted on their own (their admins allow no deletion),
    which must not make their parent impossible to delete."""
    names = {str(model._meta.verbose_name) for model in models}
    return {name for name in perms_needed if str(name) not in names}


class MemoirProjectAdminMixin:
    """Mixed into ProjectAdmin."""

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        perms_needed = _cascaded_records(perms_needed, MemoirExport, SectionVersion)
        return deleted, counts, perms_needed, protected

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and review.is_frozen(obj):
            return False  # what was reviewed is what was sent, for every role
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and review.is_frozen(obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if "final_document_url" not in readonly:
            readonly.append("final_document_url")  # set by the export
        return readonly

    def save_formset(self, request, form, formset, change):
        # A section retitled in the project's inline: its text is kept as a version and
        # its review cleared, as in the section's own page.
        if formset.model is Section:
            for inline in formset.initial_forms:
                if inline.instance.pk and {"title", "content"} & set(inline.changed_data):
                    review.keep_version(inline.instance, reason="edit", user=request.user)
                    inline.instance.reviewed = False
                    inline.instance.reviewer = None
                    inline.instance.reviewed_at = None
        super().save_formset(request, form, formset, change)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/generate/",
                self.admin_site.admin_view(self.generate_view),
                name="projects_project_generate",
            ),
            path(
                "<path:object_id>/export/",
                self.admin_site.admin_view(self.export_view),
                name="projects_project_export",
            ),
            *super().get_urls(),
        ]

    def _changeable(self, request, object_id):
        if request.method != "POST":
            return None, HttpResponseNotAllowed(["POST"])
        project = self.get_object(request, object_id)
        if project is None:
            return None, self.missing_object_response(request, object_id)
        if not self.has_change_permission(request, project):
            raise PermissionDenied
        return project, None

    def generate_view(self, request, object_id):
        project, response = self._changeable(request, object_id)
        if response is not None:
            return response
        criteria = [c for c in request.POST.getlist("criterion") if c]
        try:
            generation.queue_generation(
                project.company_id, project, criteria=criteria, user=request.user, request=request
            )
        except (generation.GenerationNotAllowed, backends.UnknownBackend) as refused:
            self.message_user(request, str(refused), messages.WARNING)
        else:
            self.message_user(
                request,
                _("The memoir of “%(project)s” is being written: this page shows the progress.")
                % {"project": project},
                messages.INFO,
            )
        return HttpResponseRedirect(reverse("admin:projects_project_change", args=[project.pk]))

    def export_view(self, request, object_id):
        project, response = self._changeable(request, object_id)
        if response is not None:
            return response
        try:
            export.queue_export(
                project.company_id,
                project,
                sources=bool(request.POST.get("sources")),
                user=request.user,
            )
        except export.ExportNotAllowed as refused:
            self.message_user(request, str(refused), messages.WARNING)
        else:
            self.message_user(
                request,
                _(
                    "The Word document of “%(project)s” is being built: this page shows the progress."
                )
                % {"project": project},
                messages.INFO,
            )
        return HttpResponseRedirect(reverse("admin:projects_project_change", args=[project.pk]))

    def memoir_panel(self, request, project) -> str:
        company = project.company_id
        sections = list(
            Section.objects.for_company(company).filter(project_id=project.pk).order_by("order_num")
        )
        stale = {s.section.pk: s.reasons for s in review.stale_sections(company, project)}
        exports = list(MemoirExport.objects.for_company(company).filter(project_id=project.pk)[:10])
        jobs = list(
            Job.objects.for_company(company)
            .of(project)
            .filter(kind__in=[JobKind.GENERATION, JobKind.EXPORT])
            .order_by("-created_at")[:1]
        )
        running = [
            render_to_string("jobs/progress.html", {"job": job, "reload": True})
            for job in jobs
            if not job.finished
        ]
        can_change = self.has_change_permission(request, project)
        matches = ContentMatch.objects.for_company(company).filter(project_id=project.pk)
        has_analysis = RCAnalysis.objects.filter(project_id=project.pk).exists()
        context = {
            "project": project,
            "steps": steps_of(
                project,
                has_rc=bool(project.rc_storage_path)
                or RCAnalysis.objects.filter(project_id=project.pk).exists(),
                has_document=bool(exports),
            ),
            "sections": [
                {
                    "section": s,
                    "url": reverse("admin:projects_section_change", args=[s.pk]),
                    "stale": stale.get(s.pk),
                }
                for s in sections
            ],
            "stale_count": len(stale),
            "reviewed": sum(1 for s in sections if s.reviewed),
            "exports": [
                {
                    "export": e,
                    "url": reverse("admin:projects_memoirexport_download", args=[e.pk]),
                }
                for e in exports
            ],
            "running": running,
            "failed_job": jobs[0] if jobs and jobs[0].status == "failed" else None,
            "can_generate": can_change and project.status in generation.GENERATABLE,
            "can_export": can_change and project.status in export.EXPORTABLE and bool(sections),
            "approved_matches": matches.filter(approved=True).count(),
            "has_analysis": has_analysis,
            # Once the RC is analysed, the next action is the matching.
            "can_match": can_change
            and has_analysis
            and project.status == ProjectStatus.RC_ANALYZED,
            "matching_run_url": reverse("admin:projects_project_matching_run", args=[project.pk]),
            "generate_url": reverse("admin:projects_project_generate", args=[project.pk]),
            "export_url": reverse("admin:projects_project_export", args=[project.pk]),
            "word_template_url": reverse(
                "admin:memoir_word_template_company", args=[project.company_id]
            ),
            "frozen": review.is_frozen(project),
        }
        return render_to_string(
            "admin/projects/project/memoir_panel.html", context, request=request
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk:
            context["memoir_panel"] = self.memoir_panel(request, obj)
            if review.is_frozen(obj):
                context["transitions"] = []  # submitted is final
        return super().render_change_form(request, context, add, change, form_url, obj)


class MemoirSectionAdminMixin:
    """Mixed into SectionAdmin: sources beside the text, versions kept on every edit, the
    review cleared by an edit, and the sections of a submitted project frozen."""

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, _cascaded_records(perms_needed, SectionVersion), protected

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and review.is_frozen(obj.project):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and review.is_frozen(obj.project):
            return False
        return super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return [*readonly, "sources_panel", "last_diff"]

    # Methods, not static ones: the admin reads a label from the attribute it gets, and
    # a staticmethod's attributes are not its function's (the label was "Sources panel").
    @admin.display(description=_("sources"))
    def sources_panel(self, obj) -> str:
        if obj is None or not obj.pk:
            return "—"
        from library.models import ContentBlock

        pinned = {str(_uuid(bid)): version for bid, version in (obj.source_versions or {}).items()}
        # A section written by hand may name blocks without pinning their versions.
        ids = list(dict.fromkeys([*pinned, *(str(bid) for bid in obj.source_blocks or [])]))
        titles = dict(
            ContentBlock.objects.filter(pk__in=ids, company_id=obj.company_id).values_list(
                "pk", "title"
            )
        )
        rows = []
        for bid in ids:
            title = titles.get(_uuid(bid))
            if title is None:  # deleted since (or not this company's): no link
                rows.append(format_html("<li>{}</li>", _("a block that no longer exists")))
                continue
            link = format_html(
                '<a href="{}">{}</a>',
                reverse("admin:library_contentblock_change", args=[bid]),
                title,
            )
            version = pinned.get(bid)
            rows.append(
                format_html("<li>{} — v{}</li>", link, version)
                if version is not None
                else format_html("<li>{} — {}</li>", link, _("version not pinned"))
            )
        blocks = format_html_join("", "{}", ((row,) for row in rows))
        passages = format_html_join(
            "",
            "<li>{} — p. {} ({})</li>",
            (
                (p.get("memoire"), p.get("page") or "—", p.get("score"))
                for p in obj.source_passages or []
            ),
        )
        past_projects = format_html_join(
            "",
            "<li>{}</li>",
            (
                (", ".join(str(v) for v in (p.get("name"), p.get("client"), p.get("year")) if v),)
                for p in obj.source_past_projects or []
                if isinstance(p, dict)
            ),
        )
        return format_html(
            "<strong>{}</strong><ul>{}</ul><strong>{}</strong><ul>{}</ul>"
            "<strong>{}</strong><ul>{}</ul>",
            _("Content blocks"),
            blocks or "—",
            _("Past projects"),
            past_projects or "—",
            _("Memoir passages"),
            passages or "—",
        )

    @admin.display(description=_("changes since the previous version"))
    def last_diff(self, obj) -> str:
        if obj is None or not obj.pk:
            return "—"
        text = review.diff(obj)
        if not text:
            return "—"
        return format_html('<pre style="white-space:pre-wrap">{}</pre>', text)

    def save_model(self, request, obj, form, change):
        if change and {"content", "title"} & set(form.changed_data):
            review.keep_version(obj, reason="edit", user=request.user)
            obj.reviewed, obj.reviewer, obj.reviewed_at = False, None, None
        super().save_model(request, obj, form, change)


def _uuid(value):
    import uuid

    try:
        return uuid.UUID(str(value))
    except ValueError:
        return value


class SpendAgainstBudgetMixin:
    """Mixed into GenerationRequestAdmin: this month's spend of each company against its
    budget (``Company.settings["generation_budget"]``), and by project and model."""

    def changelist_view(self, request, extra_context=None):
        from django.db.models import Count, Sum

        from projects.memoir import budget
        from tenants.models import Company

        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if not context or context.get("cl") is None:
            return response
        month = self.get_queryset(request).filter(created_at__gte=budget.month_start()).order_by()
        sums = {"requests": Count("pk"), "tokens": Sum("tokens_used"), "cost": Sum("cost_usd")}
        by_company = list(month.values("company").annotate(**sums).order_by("company")[:50])
        names = {
            c.pk: c for c in Company.objects.filter(pk__in=[row["company"] for row in by_company])
        }
        rows = []
        for row in by_company:
            company = names.get(row["company"])
            if company is None:
                continue
            limits = budget.budget_of(company)
            rows.append(
                {
                    "company": company.name,
                    "tokens": row["tokens"] or 0,
                    "cost": row["cost"] or 0,
                    "budget_tokens": limits.tokens,
                    "budget_cost": limits.cost_usd,
                    "over": (limits.tokens is not None and (row["tokens"] or 0) > limits.tokens)
                    or (limits.cost_usd is not None and (row["cost"] or 0) > limits.cost_usd),
                }
            )
        context["month_budgets"] = rows
        context["month_by_project"] = list(
            month.values("project__name").annotate(**sums).order_by("-tokens")[:10]
        )
        context["month_by_model"] = list(
            month.values("model_used").annotate(**sums).order_by("-tokens")[:10]
        )
        return response
