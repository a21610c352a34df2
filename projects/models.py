from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from config.db.enums import EnumField
from config.db.fields import created_at, uuid_primary_key
from config.labels import label as code_label
from projects.querysets import ProjectChildQuerySet, ProjectQuerySet
from tenants.models import CompanyChildModel, TenantModel

__all__ = [
    "ContentMatch",
    "DocumentKind",
    "GenerationRequest",
    "GenerationStatus",
    "MemoirExport",
    "Project",
    "ProjectDocument",
    "ProjectStatus",
    "RCAnalysis",
    "Section",
    "SectionVersion",
]


def _between_0_and_1(field: str, table: str):
    return models.CheckConstraint(
        condition=Q(**{f"{field}__gte": 0, f"{field}__lte": 1}),
        name=f"{table}_{field}_between_0_and_1",
        violation_error_message=format_lazy(_("{field} must be between 0 and 1."), field=field),
    )


def _non_negative(field: str, table: str):
    return models.CheckConstraint(
        condition=Q(**{f"{field}__gte": 0}),
        name=f"{table}_{field}_non_negative",
        violation_error_message=format_lazy(_("{field} cannot be negative."), field=field),
    )


def _check_block_ids(ids, project, field: str) -> None:
    """Block ids stored in an array must be blocks of the project's company (the
    arrays have no foreign key to do it)."""
    if not ids or project is None:
        return
    from library.models import ContentBlock

    known = set(
        ContentBlock.objects.filter(pk__in=ids, company_id=project.company_id).values_list(
            "pk", flat=True
        )
    )
    unknown = [str(i) for i in ids if i not in known]
    if unknown:
        raise ValidationError(
            {field: _("Unknown content block(s): %(ids)s.") % {"ids": ", ".join(unknown)}}
        )


class ProjectStatus(models.TextChoices):
    """Values of the ``project_status_enum`` type, in workflow order."""

    DRAFT = "draft", _("Draft")
    RC_ANALYZING = "rc_analyzing", _("RC being analysed")
    RC_ANALYZED = "rc_analyzed", _("RC analysed")
    MATCHING = "matching", _("Matching content")
    MATCHED = "matched", _("Content matched")
    GENERATING = "generating", _("Generating")
    GENERATED = "generated", _("Generated")
    REVIEWING = "reviewing", _("In review")
    COMPLETED = "completed", _("Completed")
    SUBMITTED = "submitted", _("Submitted")


class GenerationStatus(models.TextChoices):
    """Values of the ``generation_status_enum`` type, in order."""

    PENDING = "pending", _("Pending")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")


class Project(TenantModel):
    """A tender the company answers: the RC, its analysis and the memoir being written."""

    id = uuid_primary_key()
    name = models.CharField(_("name"), max_length=255)
    rc_storage_path = models.CharField(_("RC storage path"), max_length=500, blank=True, null=True)
    rc_context = models.TextField(_("RC context"), blank=True, null=True)
    status = EnumField(
        _("status"),
        enum_type="project_status_enum",
        choices=ProjectStatus.choices,
        default=ProjectStatus.DRAFT,
        db_default=ProjectStatus.DRAFT,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        related_name="created_projects",
        verbose_name=_("created by"),
        db_index=False,
        db_column="created_by",
        null=True,
        blank=True,
    )
    client = models.CharField(_("client"), max_length=255, blank=True, null=True)
    location = models.CharField(_("location"), max_length=255, blank=True, null=True)
    lot = models.CharField(_("lot"), max_length=100, blank=True, null=True)
    project_type = models.CharField(_("project type"), max_length=100, blank=True, null=True)
    size = models.CharField(_("size"), max_length=100, blank=True, null=True)
    deadline = models.DateTimeField(_("deadline"), blank=True, null=True)
    final_document_url = models.TextField(_("final document URL"), blank=True, null=True)
    metadata = models.JSONField(_("metadata"), default=dict, db_default={}, blank=True)
    created_at = created_at(null=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        db_table = "projects"
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["-created_at"]
        indexes = [
            # Serves the tenant lookup and a company's projects newest first.
            models.Index("company", models.F("created_at").desc(), name="idx_projects_company_id"),
            # A company's projects in one status, newest first: the page is read off
            # the index instead of sorting every project in that status.
            models.Index(
                "company",
                "status",
                models.F("created_at").desc(),
                name="idx_projects_company_status",
            ),
            models.Index(fields=["created_by"], name="idx_projects_created_by"),
        ]
        constraints = [
            # What the foreign keys of its child rows on (company_id, …_id) refer to.
            models.UniqueConstraint(
                fields=["company", "id"],
                name="projects_company_id_id_key",
                violation_error_message=_("This row already exists."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Section(CompanyChildModel):
    """One section of a project's memoir, written by hand or generated."""

    company_parent = "project"
    id = uuid_primary_key()
    project = models.ForeignKey(
        Project,
        on_delete=models.CASCADE,
        related_name="sections",
        verbose_name=_("project"),
        db_index=False,
    )
    section_type = models.CharField(_("section type"), max_length=100)
    title = models.CharField(_("title"), max_length=255)
    content = models.TextField(_("content"), blank=True, null=True)
    order_num = models.IntegerField(_("order"), blank=True, null=True)
    generated_by_ai = models.BooleanField(_("generated by AI"), default=False, db_default=False)
    source_blocks = ArrayField(
        models.UUIDField(), verbose_name=_("source blocks"), blank=True, null=True
    )
    quality_score = models.FloatField(_("quality score"), blank=True, null=True)
    reviewed = models.BooleanField(_("reviewed"), default=False, db_default=False)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        related_name="reviewed_sections",
        verbose_name=_("reviewer"),
        db_index=False,
        null=True,
        blank=True,
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), blank=True, null=True)
    created_at = created_at(null=True)
    #: ``{block id: version}`` of the blocks the text was written from (pinned).
    source_versions = models.JSONField(
        _("source block versions"), default=dict, db_default={}, blank=True, editable=False
    )
    #: The memoir passages used: ``[{"chunk": id, "memoire": name, "score": s}]``.
    source_passages = models.JSONField(
        _("source passages"), default=list, db_default=[], blank=True, editable=False
    )
    #: The approved past projects cited (its references table):
    #: ``[{"id": id, "name": name, "client": client, "year": year}]``, kept as written.
    source_past_projects = models.JSONField(
        _("source past projects"), default=list, db_default=[], blank=True, editable=False
    )

    objects = ProjectChildQuerySet.as_manager()

    class Meta:
        db_table = "sections"
        verbose_name = _("section")
        verbose_name_plural = _("sections")
        ordering = ["project", "order_num"]
        indexes = [
            models.Index(fields=["company", "project"], name="idx_sections_company"),
            models.Index(fields=["project", "order_num"], name="idx_sections_project"),
            GinIndex(fields=["source_blocks"], name="idx_sections_source_blocks"),
            models.Index(fields=["reviewer"], name="idx_sections_reviewer_id"),
        ]
        constraints = [
            _between_0_and_1("quality_score", "sections"),
            # What its versions' foreign key on (company_id, section_id) refers to.
            models.UniqueConstraint(
                fields=["company", "id"],
                name="sections_company_id_id_key",
                violation_error_message=_("This row already exists."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        super().clean()
        if self.project_id:
            _check_block_ids(self.source_blocks, self.project, "source_blocks")


class DocumentKind(models.TextChoices):
    RC = "rc", _("Consultation rules (RC)")
    NOTICE = "notice", _("Contract notice")
    CCTP = "cctp", _("Technical specifications (CCTP)")
    CCAP = "ccap", _("Administrative specifications (CCAP)")
    OTHER = "other", _("Other consultation document")


class ProjectDocument(CompanyChildModel):
    """A file of the tender's consultation documents (the RC, the notice, the CCTP…),
    stored under the company's path; the RC is what the analysis reads."""

    company_parent = "project"
    id = uuid_primary_key()
    project = models.ForeignKey(
        Project,
        on_delete=models.CASCADE,
        related_name="documents",
        verbose_name=_("project"),
        db_index=False,
    )
    kind = models.CharField(
        _("kind of document"), max_length=20, choices=DocumentKind.choices, default=DocumentKind.RC
    )
    filename = models.CharField(_("file name"), max_length=255)
    storage_path = models.CharField(_("storage path"), max_length=500)
    content_type = models.CharField(_("content type"), max_length=100)
    size_bytes = models.BigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        db_index=False,
    )
    created_at = created_at()

    objects = ProjectChildQuerySet.as_manager()

    class Meta:
        db_table = "project_documents"
        indexes = [
            models.Index(fields=["company", "project"], name="idx_project_documents_company"),
        ]
        verbose_name = _("consultation document")
        verbose_name_plural = _("consultation documents")
        ordering = ["project", "-created_at"]
        constraints = [
            # Also the index of a project's documents.
            models.UniqueConstraint(
                fields=["project", "sha256"],
                name="project_documents_once_per_project",
                violation_error_message=_("This file is already attached to the project."),
            ),
            models.CheckConstraint(
                condition=Q(size_bytes__gte=0),
                name="project_documents_size_non_negative",
                violation_error_message=_("A file size cannot be negative."),
            ),
        ]

    def __str__(self) -> str:
        return self.filename


class RCAnalysis(CompanyChildModel):
    """The parsed règlement de consultation of a project (one per project); the JSON
    shapes of its columns are in docs/rc_analysis.md."""

    audit_resource_type = "rc_analysis"

    company_parent = "project"
    id = uuid_primary_key()
    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, related_name="rc_analysis", verbose_name=_("project")
    )
    rc_file_url = models.TextField(_("RC file URL"))
    project_info = models.JSONField(
        _("project information"), default=dict, db_default={}, blank=True
    )
    required_sections = models.JSONField(
        _("required sections"), default=list, db_default=[], blank=True
    )
    special_requirements = models.JSONField(
        _("special requirements"), default=list, db_default=[], blank=True
    )
    format = models.JSONField(_("format"), default=dict, db_default={}, blank=True)
    scoring_criteria = models.JSONField(
        _("scoring criteria"), default=dict, db_default={}, blank=True
    )
    analyzed_at = models.DateTimeField(_("analysed at"), db_default=Now())
    confidence_score = models.FloatField(_("confidence"), blank=True, null=True)
    created_at = created_at()

    objects = ProjectChildQuerySet.as_manager()

    class Meta:
        db_table = "rc_analysis"
        indexes = [
            models.Index(fields=["company", "project"], name="idx_rc_analysis_company"),
        ]
        verbose_name = _("RC analysis")
        verbose_name_plural = _("RC analyses")
        ordering = ["-analyzed_at"]
        constraints = [_between_0_and_1("confidence_score", "rc_analysis")]

    def __str__(self) -> str:
        return str(_("RC analysis of %(project)s") % {"project": self.project})


class ContentMatch(CompanyChildModel):
    """A requirement of the RC mapped to content blocks of the library."""

    company_parent = "project"
    id = uuid_primary_key()
    project = models.ForeignKey(
        Project,
        on_delete=models.CASCADE,
        related_name="content_matches",
        verbose_name=_("project"),
        db_index=False,
    )
    requirement_id = models.CharField(_("requirement"), max_length=100)
    matched_blocks = ArrayField(
        models.UUIDField(), verbose_name=_("matched blocks"), blank=True, null=True
    )
    confidence = models.FloatField(_("confidence"), blank=True, null=True)
    match_reason = models.TextField(_("reason"), blank=True, null=True)
    needs_generation = models.BooleanField(_("needs generation"), default=False, db_default=False)
    needs_upload = models.BooleanField(_("needs upload"), default=False, db_default=False)
    approved = models.BooleanField(_("approved"), default=False, db_default=False)
    # Matching (projects.matching): a proposal a person turned down (kept so that a new
    # run does not propose it again), and the memoir passage a row proposes instead of
    # blocks (a document_chunks id; the passage may be re-indexed away).
    rejected = models.BooleanField(_("rejected"), default=False, db_default=False)
    passage_chunk_id = models.UUIDField(_("memoir passage"), blank=True, null=True)
    # Or one of the company's past projects (a reference to cite). The database keeps
    # it in the project's company (a foreign key on (company_id, past_project_id)); a
    # past project a match names is not deleted (make it non-referenceable instead).
    past_project = models.ForeignKey(
        "library.PastProject",
        on_delete=models.RESTRICT,
        related_name="content_matches",
        verbose_name=_("past project"),
        db_index=False,
        null=True,
        blank=True,
    )
    created_at = created_at()

    objects = ProjectChildQuerySet.as_manager()

    class Meta:
        db_table = "content_matches"
        verbose_name = _("content match")
        verbose_name_plural = _("content matches")
        ordering = ["project", "requirement_id"]
        indexes = [
            models.Index(fields=["company", "project"], name="idx_content_matches_company"),
            models.Index(fields=["project"], name="idx_content_matches_project_id"),
            GinIndex(fields=["matched_blocks"], name="idx_content_matches_blocks"),
            # The matches of a past project (its deletion, the composite foreign key).
            models.Index(
                fields=["company", "past_project"],
                name="idx_content_matches_past_project",
                condition=Q(past_project__isnull=False),
            ),
        ]
        # One row proposes one thing (a block, a passage or a past project) by the
        # code that writes them (matching, the approval page, clean()), as for blocks
        # and passages: no check constraint, legacy rows list several blocks or none.
        constraints = [_between_0_and_1("confidence", "content_matches")]

    def __str__(self) -> str:
        return f"{self.project} — {self.requirement_id}"

    def clean(self) -> None:
        super().clean()
        if self.project_id:
            _check_block_ids(self.matched_blocks, self.project, "matched_blocks")
        if self.past_project_id and (self.matched_blocks or self.passage_chunk_id):
            raise ValidationError(
                {
                    "matched_blocks": _(
                        "A match proposing a past project cannot list blocks or a memoir "
                        "passage too."
                    )
                }
            )


class GenerationRequest(CompanyChildModel):
    """One AI generation of a section, with what it cost."""

    company_parent = "project"
    id = uuid_primary_key()
    project = models.ForeignKey(
        Project,
        on_delete=models.CASCADE,
        related_name="generation_requests",
        verbose_name=_("project"),
        db_index=False,
    )
    section_type = models.CharField(_("section type"), max_length=100)
    status = EnumField(
        _("status"),
        enum_type="generation_status_enum",
        choices=GenerationStatus.choices,
        default=GenerationStatus.PENDING,
        db_default=GenerationStatus.PENDING,
    )
    request_context = models.JSONField(
        _("request context"), default=dict, db_default={}, blank=True
    )
    generated_content = models.TextField(_("generated content"), blank=True, null=True)
    quality_score = models.FloatField(_("quality score"), blank=True, null=True)
    model_used = models.CharField(_("model"), max_length=100, blank=True, null=True)
    tokens_used = models.IntegerField(_("tokens"), blank=True, null=True)
    cost_usd = models.DecimalField(
        _("cost (USD)"), max_digits=10, decimal_places=6, blank=True, null=True
    )
    latency_seconds = models.FloatField(_("latency (s)"), blank=True, null=True)
    error_message = models.TextField(_("error"), blank=True, null=True)
    created_at = created_at()
    completed_at = models.DateTimeField(_("completed at"), blank=True, null=True)

    objects = ProjectChildQuerySet.as_manager()

    class Meta:
        db_table = "generation_requests"
        verbose_name = _("generation request")
        verbose_name_plural = _("generation requests")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["company", "project"], name="idx_generation_requests_company"),
            models.Index(fields=["project"], name="idx_generation_requests_project_id"),
            models.Index(fields=["status"], name="idx_generation_requests_status"),
        ]
        constraints = [
            _between_0_and_1("quality_score", "generation_requests"),
            _non_negative("tokens_used", "generation_requests"),
            _non_negative("cost_usd", "generation_requests"),
            _non_negative("latency_seconds", "generation_requests"),
        ]

    def __str__(self) -> str:
        # The section type's label, not its code ("Moyens humains", not "moyens_humains").
        section = code_label("section_type", self.section_type)
        return f"{self.project} — {section} ({self.get_status_display()})"


class SectionVersion(CompanyChildModel):
    """A section's text as it was before a generation or an edit replaced it."""

    company_parent = "section"
    id = uuid_primary_key()
    section = models.ForeignKey(
        Section,
        on_delete=models.CASCADE,
        related_name="versions",
        verbose_name=_("section"),
        db_index=False,
    )
    version = models.IntegerField(_("version"))
    title = models.CharField(_("title"), max_length=255)
    content = models.TextField(_("content"), blank=True, default="")
    source_versions = models.JSONField(_("source block versions"), default=dict, blank=True)
    reason = models.CharField(_("replaced by"), max_length=20)  # "generation" or "edit"
    replaced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("replaced by"),
        db_index=False,
        null=True,
        blank=True,
    )
    created_at = created_at()

    objects = ProjectChildQuerySet.as_manager()

    class Meta:
        db_table = "section_versions"
        verbose_name = _("section version")
        verbose_name_plural = _("section versions")
        ordering = ["section", "-version"]
        indexes = [
            models.Index(fields=["company", "section"], name="idx_section_versions_company"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["section", "version"],
                name="section_versions_section_version_unique",
                violation_error_message=_("This version of the section is already kept."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"


class MemoirExport(CompanyChildModel):
    """One DOCX export of a project's memoir, kept under the company's path."""

    company_parent = "project"
    id = uuid_primary_key()
    project = models.ForeignKey(
        Project,
        on_delete=models.CASCADE,
        related_name="exports",
        verbose_name=_("project"),
        db_index=False,
    )
    filename = models.CharField(_("file name"), max_length=255)
    storage_path = models.CharField(_("storage path"), max_length=500)
    size_bytes = models.BigIntegerField(_("size (bytes)"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    sections = models.IntegerField(_("sections"), default=0)
    page_estimate = models.IntegerField(_("estimated pages"), default=0)
    page_limit = models.IntegerField(_("page limit"), blank=True, null=True)
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    with_sources = models.BooleanField(_("annex of sources"), default=False)
    submitted = models.BooleanField(_("submitted"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
        db_index=False,
        null=True,
        blank=True,
    )
    created_at = created_at()

    objects = ProjectChildQuerySet.as_manager()

    class Meta:
        db_table = "memoir_exports"
        verbose_name = _("memoir export")
        verbose_name_plural = _("memoir exports")
        ordering = ["project", "-created_at"]
        indexes = [
            models.Index(fields=["company", "project"], name="idx_memoir_exports_company"),
        ]

    def __str__(self) -> str:
        return self.filename
