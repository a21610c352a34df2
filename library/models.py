from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _
from pgvector.django import VectorField

from config.db.enums import EnumField
from config.db.fields import created_at, uuid_primary_key, year_field
from library import facts
from library.choices import BlockType, FileRelationship
from library.metadata import clean_metadata, normalize_tags
from library.querysets import (
    BlockDocument,
    BlockFileQuerySet,
    BlockVersionQuerySet,
    CompanyTags,
    ContentBlockQuerySet,
)
from tenants.managers import TenantQuerySet
from tenants.models import CompanyChildModel, TenantModel

__all__ = [
    "BlockFile",
    "BlockType",
    "ContentBlock",
    "ContentBlockVersion",
    "FileRelationship",
    "PastProject",
    "SectionTemplate",
    "StoredFile",
]


class ContentBlock(TenantModel):
    """A reusable piece of the content library (CV, equipment, procedure…)."""

    id = uuid_primary_key()
    type = EnumField(_("type"), enum_type="content_block_type_enum", choices=BlockType.choices)
    title = models.CharField(_("title"), max_length=500)
    content = models.TextField(_("content"))
    metadata = models.JSONField(_("metadata"), default=dict, db_default={}, blank=True)
    tags = ArrayField(models.TextField(), verbose_name=_("tags"), blank=True, null=True)
    version = models.IntegerField(_("version"), default=1, db_default=1, editable=False)
    is_active = models.BooleanField(_("active"), default=True, db_default=True)
    # Derived from the typed dates of ``metadata`` (library.facts.validity) on every
    # save, so that the expiry filters and valid_on() read an indexed date. Code that
    # writes metadata without save() (update(), bulk_create) sets it with
    # facts.valid_until(type, metadata) itself.
    valid_until = models.DateField(_("valid until"), null=True, blank=True, editable=False)
    # The block's embedding by the configured backend (library.embeddings, computed by
    # a job after each save), zero-padded to 384 dimensions, and the model that made it:
    # matching compares it only with vectors of the same model.
    embedding_384 = VectorField(
        _("embedding (384 dimensions)"), dimensions=384, blank=True, null=True, editable=False
    )
    embedding_model = models.CharField(
        _("embedding model"), max_length=100, blank=True, null=True, editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.RESTRICT,
        related_name="content_blocks",
        verbose_name=_("created by"),
        db_index=False,
        db_column="created_by",
    )
    files = models.ManyToManyField(
        "StoredFile", through="BlockFile", related_name="blocks", verbose_name=_("files")
    )
    created_at = created_at()
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_default=Now())
    # The weighted French document (title A, tags B, content C), stored: searching
    # reads it instead of recomputing it for every row the index cannot decide.
    search_document = models.GeneratedField(
        expression=BlockDocument(),
        output_field=SearchVectorField(),
        db_persist=True,
        verbose_name=_("search document"),
    )

    objects = ContentBlockQuerySet.as_manager()

    class Meta:
        db_table = "content_blocks"
        verbose_name = _("content block")
        verbose_name_plural = _("content blocks")
        ordering = ["-updated_at"]
        indexes = [
            models.Index(fields=["company", "type"], name="idx_content_blocks_company_type"),
            # A company's blocks newest first: the admin's list, and tag filters, which
            # walk it and stop at the page instead of sorting every tagged row.
            models.Index(
                "company", models.F("updated_at").desc(), name="idx_content_blocks_company_updated"
            ),
            GinIndex(fields=["tags"], name="idx_content_blocks_tags"),
            # A company's blocks by tag (see CompanyTags).
            GinIndex(CompanyTags(), name="idx_content_blocks_company_tags"),
            GinIndex(fields=["search_document"], name="idx_content_blocks_fts"),
            GinIndex(fields=["metadata"], name="idx_content_blocks_metadata"),
            models.Index(fields=["created_by"], name="idx_content_blocks_created_by"),
            # A company's dated blocks by expiry: the validity filters, valid_on().
            models.Index(
                fields=["company", "valid_until"],
                name="idx_content_blocks_company_valid",
                condition=Q(valid_until__isnull=False),
            ),
        ]
        constraints = [
            # What the foreign keys of its child rows on (company_id, …_id) refer to.
            models.UniqueConstraint(
                fields=["company", "id"],
                name="content_blocks_company_id_id_key",
                violation_error_message=_("This row already exists."),
            ),
            models.CheckConstraint(
                condition=Q(version__gte=1),
                name="content_blocks_version_positive",
                violation_error_message=_("The version starts at 1."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        super().clean()
        self.tags = normalize_tags(self.tags)
        if self.content:
            self.content = self.content.replace("\r\n", "\n")  # browsers send CRLF
        if self.__dict__.pop("metadata_checked_by_form", False):
            return  # ContentBlockForm checked the facts with the same fields, and said why
        try:
            self.metadata = clean_metadata(self.type, self.metadata)
        except ValidationError as exc:
            raise ValidationError({"metadata": exc.error_list}) from None

    def save(self, *args, **kwargs) -> None:
        self.tags = normalize_tags(self.tags)
        self.valid_until = facts.valid_until(self.type, self.metadata)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"metadata", "type"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "valid_until"}
        super().save(*args, **kwargs)

    def validity(self) -> facts.Validity | None:
        """Until when the block may be used, and which of its facts decides it."""
        return facts.validity(self.type, self.metadata)

    def typed_facts(self):
        """The block's typed facts (a dataclass of ``library.facts``)."""
        return facts.read(self)


class ContentBlockVersion(CompanyChildModel):
    """A content block as it was before one of its saved changes.

    Version N of a block is kept here when version N+1 is saved, with who saved N+1
    and what changed, so the history reads as a list of edits and any older version
    can be restored (as a new version: history is never rewritten).
    """

    company_parent = "block"
    id = uuid_primary_key()
    block = models.ForeignKey(
        ContentBlock,
        on_delete=models.CASCADE,
        related_name="versions",
        verbose_name=_("content block"),
        db_index=False,
    )
    version = models.IntegerField(_("version"))
    type = EnumField(_("type"), enum_type="content_block_type_enum", choices=BlockType.choices)
    title = models.CharField(_("title"), max_length=500)
    content = models.TextField(_("content"))
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    tags = ArrayField(models.TextField(), verbose_name=_("tags"), blank=True, null=True)
    is_active = models.BooleanField(_("active"), default=True)
    replaced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("replaced by"),
        db_index=False,
        null=True,
        blank=True,
    )
    replaced_at = models.DateTimeField(_("replaced at"), db_default=Now())
    changes = models.JSONField(_("changes"), default=dict, blank=True)

    objects = BlockVersionQuerySet.as_manager()

    class Meta:
        db_table = "content_block_versions"
        indexes = [
            models.Index(fields=["company", "block"], name="idx_content_block_versions_company"),
        ]
        verbose_name = _("content block version")
        verbose_name_plural = _("content block versions")
        ordering = ["block", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["block", "version"],
                name="content_block_versions_block_version_unique",
                violation_error_message=_("This version of the block is already kept."),
            ),
            models.CheckConstraint(
                condition=Q(version__gte=1),
                name="content_block_versions_version_positive",
                violation_error_message=_("The version starts at 1."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"


class StoredFile(TenantModel):
    """Metadata of a file kept in the company's storage."""

    id = uuid_primary_key()
    filename = models.CharField(_("file name"), max_length=255)
    file_type = models.CharField(_("MIME type"), max_length=100, blank=True, null=True)
    storage_url = models.TextField(_("storage location"))
    size_bytes = models.BigIntegerField(_("size (bytes)"), blank=True, null=True)
    uploaded_at = models.DateTimeField(_("uploaded at"), db_default=Now(), editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.RESTRICT,
        related_name="uploaded_files",
        verbose_name=_("uploaded by"),
        db_index=False,
        db_column="uploaded_by",
    )
    metadata = models.JSONField(_("metadata"), default=dict, db_default={}, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True, null=True, editable=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "files"
        verbose_name = _("file")
        verbose_name_plural = _("files")
        ordering = ["-uploaded_at"]
        indexes = [
            models.Index(fields=["company"], name="idx_files_company_id"),
            models.Index(fields=["uploaded_by"], name="idx_files_uploaded_by"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(size_bytes__gte=0),
                name="files_size_bytes_non_negative",
                violation_error_message=_("A file size cannot be negative."),
            ),
            # The same content is stored once per company.
            models.UniqueConstraint(
                fields=["company", "sha256"],
                name="files_company_sha256_unique",
                violation_error_message=_("This file is already in the library."),
            ),
        ]

    def __str__(self) -> str:
        return self.filename


class BlockFile(CompanyChildModel):
    """A file attached to a content block, with the role it plays there."""

    company_parent = "block"
    id = uuid_primary_key()
    block = models.ForeignKey(
        ContentBlock,
        on_delete=models.CASCADE,
        related_name="block_files",
        verbose_name=_("content block"),
        db_index=False,
    )
    file = models.ForeignKey(
        StoredFile,
        on_delete=models.CASCADE,
        related_name="block_files",
        verbose_name=_("file"),
        db_index=False,
    )
    relationship = EnumField(
        _("relationship"), enum_type="file_relationship_enum", choices=FileRelationship.choices
    )
    created_at = created_at()

    objects = BlockFileQuerySet.as_manager()

    class Meta:
        db_table = "block_files"
        verbose_name = _("attached file")
        verbose_name_plural = _("attached files")
        indexes = [
            models.Index(fields=["file"], name="idx_block_files_file_id"),
            models.Index(fields=["company", "block"], name="idx_block_files_company"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["block", "file"],
                name="block_files_block_file_unique",
                violation_error_message=_("This file is already attached to this block."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.block} — {self.file} ({self.get_relationship_display()})"


class PastProject(TenantModel):
    """A reference project the company can cite in a tender."""

    id = uuid_primary_key()
    name = models.CharField(_("name"), max_length=255)
    client = models.CharField(_("client"), max_length=255, blank=True, null=True)
    year = year_field(blank=True, null=True)
    project_type = models.CharField(_("project type"), max_length=100, blank=True, null=True)
    description = models.TextField(_("description"), blank=True, null=True)
    techniques_used = ArrayField(
        models.TextField(), verbose_name=_("techniques used"), blank=True, null=True
    )
    success_factors = ArrayField(
        models.TextField(), verbose_name=_("success factors"), blank=True, null=True
    )
    photos = ArrayField(models.TextField(), verbose_name=_("photos"), blank=True, null=True)
    is_referenceable = models.BooleanField(_("referenceable"), default=True, db_default=True)
    metadata = models.JSONField(_("metadata"), default=dict, db_default={}, blank=True)
    created_at = created_at()
    # As for content blocks: the embedding by the configured backend (library.embeddings,
    # computed by a job after each save through library.services.save_past_project),
    # zero-padded to 384 dimensions, and the model that made it (matching compares it
    # only with vectors of the same model).
    embedding_384 = VectorField(
        _("embedding (384 dimensions)"), dimensions=384, blank=True, null=True, editable=False
    )
    embedding_model = models.CharField(
        _("embedding model"), max_length=100, blank=True, null=True, editable=False
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "past_projects"
        verbose_name = _("past project")
        verbose_name_plural = _("past projects")
        ordering = ["-year", "name"]
        indexes = [
            models.Index(fields=["company"], name="idx_past_projects_company_id"),
            GinIndex(fields=["techniques_used"], name="idx_past_projects_techniques"),
        ]
        constraints = [
            # What the foreign key of content_matches on (company_id, past_project_id)
            # refers to.
            models.UniqueConstraint(
                fields=["company", "id"],
                name="past_projects_company_id_id_key",
                violation_error_message=_("This row already exists."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.year})" if self.year else self.name


class SectionTemplate(TenantModel):
    """A reusable memoir section with ``{placeholders}`` to fill per project."""

    id = uuid_primary_key()
    section_type = models.CharField(_("section type"), max_length=100)
    title = models.CharField(_("title"), max_length=500)
    template_content = models.TextField(_("template"))
    placeholders = models.JSONField(
        _("placeholders"),
        default=dict,
        db_default={},
        blank=True,
        help_text=_("{name: description} of each placeholder used in the template."),
    )
    usage_count = models.IntegerField(_("usage count"), default=0, db_default=0, editable=False)
    created_at = created_at()

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "section_templates"
        verbose_name = _("section template")
        verbose_name_plural = _("section templates")
        ordering = ["section_type", "title"]
        indexes = [
            models.Index(
                fields=["company", "section_type"], name="idx_section_templates_company_type"
            ),
            GinIndex(fields=["placeholders"], name="idx_section_templates_placeholders"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(usage_count__gte=0),
                name="section_templates_usage_count_non_negative",
                violation_error_message=_("The usage count cannot be negative."),
            ),
        ]

    def __str__(self) -> str:
        return self.title
