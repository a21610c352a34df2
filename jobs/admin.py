from __future__ import annotations

from django.contrib import admin
from django.http import Http404, JsonResponse
from django.template.loader import render_to_string
from django.urls import path
from django.utils.translation import gettext_lazy as _
from procrastinate.contrib.django.models import ProcrastinateJob

from jobs.models import Job
from tenants.admin_base import TenantScopedAdmin

# The queue's own table (procrastinate_jobs) is the workers' business: company members
# follow their work on the jobs below, and platform operators also have
# ``manage.py procrastinate`` (list, retry, cancel, healthchecks). One jobs page, in the
# admin's language and scoped like every other, rather than two.
if admin.site.is_registered(ProcrastinateJob):
    admin.site.unregister(ProcrastinateJob)


def progress_json(job: Job) -> dict:
    return {
        "id": str(job.pk),
        "status": job.status,
        "status_label": str(job.get_status_display()),
        "done": job.progress_done,
        "total": job.progress_total,
        "percent": job.percent,
        "message": job.message,
        "error": job.error,
        "finished": job.finished,
        "attempts": job.attempts,
    }


@admin.register(Job)
class JobAdmin(TenantScopedAdmin):
    """Jobs are written by the application only: read-only for everyone."""

    list_display = ("target_label", "kind", "progress", "attempts", "created_by", "created_at")
    list_filter = ("kind", "status")
    search_fields = ("target_label",)
    ordering = ("-created_at",)
    date_hierarchy = "created_at"
    list_select_related = ("created_by",)
    fields = (
        "kind",
        "target_label",
        "progress",
        "error",
        "attempts",
        "max_attempts",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
    )
    readonly_fields = fields

    @admin.display(description=_("progress"))
    def progress(self, obj) -> str:
        return render_to_string("jobs/progress.html", {"job": obj})

    def get_urls(self):
        return [
            path(
                "<path:object_id>/progress/",
                self.admin_site.admin_view(self.progress_view),
                name="jobs_job_progress",
            ),
            *super().get_urls(),
        ]

    def progress_view(self, request, object_id):
        """The job's progress as JSON, polled by the progress bars of the admin."""
        job = self.get_object(request, object_id)
        if job is None or not self.has_view_permission(request, job):
            raise Http404
        return JsonResponse(progress_json(job))

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
