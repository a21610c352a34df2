"""What a background job is doing, for the people waiting on it.

The queue itself is procrastinate's (its ``procrastinate_jobs`` table): it decides
which worker runs what, when to retry and which jobs may not run together. A ``Job``
row is the company's view of one piece of work (indexing a memoir, analysing an RC…):
its progress, its outcome and its error, in the company's admin, scoped like any other
company data.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from config.db.fields import created_at, uuid_primary_key
from tenants.managers import TenantQuerySet
from tenants.models import TenantModel


class JobKind(models.TextChoices):
    MEMOIR_INDEXING = "memoir_indexing", _("Memoir indexing")
    EMBEDDINGS = "embeddings", _("Embedding refresh")
    VECTOR_INDEX = "vector_index", _("Vector index rebuild")
    RC_ANALYSIS = "rc_analysis", _("RC analysis")
    BLOCK_EMBEDDING = "block_embedding", _("Library embedding")
    MATCHING = "matching", _("Content matching")
    GENERATION = "generation", _("Section generation")
    EXPORT = "export", _("Memoir export")


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Done")
    FAILED = "failed", _("Failed")


#: Statuses a job does not leave.
FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED)


class JobQuerySet(TenantQuerySet):
    def unfinished(self) -> JobQuerySet:
        return self.exclude(status__in=FINISHED)

    def of(self, target: models.Model) -> JobQuerySet:
        return self.filter(target_type=target._meta.label_lower, target_id=target.pk)


class Job(TenantModel):
    id = uuid_primary_key()
    kind = models.CharField(_("kind"), max_length=50, choices=JobKind.choices)
    target_type = models.CharField(_("object type"), max_length=100)
    target_id = models.UUIDField(_("object id"))
    target_label = models.CharField(_("object"), max_length=255, blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    progress_done = models.IntegerField(_("done"), default=0)
    progress_total = models.IntegerField(_("to do"), blank=True, null=True)
    message = models.CharField(_("step"), max_length=255, blank=True)
    error = models.TextField(_("error"), blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    attempts = models.IntegerField(_("attempts"), default=0)
    max_attempts = models.IntegerField(_("maximum attempts"), default=3)
    queue_job_id = models.BigIntegerField(_("queue job"), blank=True, null=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        db_index=False,
    )
    created_at = created_at()
    started_at = models.DateTimeField(_("started at"), blank=True, null=True)
    finished_at = models.DateTimeField(_("finished at"), blank=True, null=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_default=Now())

    objects = JobQuerySet.as_manager()

    class Meta:
        db_table = "jobs"
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        ordering = ["-created_at"]
        indexes = [
            models.Index("company", models.F("created_at").desc(), name="idx_jobs_company"),
            models.Index(
                "target_type", "target_id", models.F("created_at").desc(), name="idx_jobs_target"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress_done__gte=0) & Q(attempts__gte=0),
                name="jobs_counts_non_negative",
                violation_error_message=_("Job counters cannot be negative."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.target_label}"

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def percent(self) -> int | None:
        if not self.progress_total:
            return None
        return min(100, round(100 * self.progress_done / self.progress_total))
