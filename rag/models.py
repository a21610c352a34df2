from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils.translation import gettext_lazy as _
from pgvector.django import IvfflatIndex, VectorField

from config.db.fields import created_at, uuid_primary_key, year_field
from rag.querysets import DocumentChunkQuerySet
from tenants.managers import TenantQuerySet
from tenants.models import TenantModel

__all__ = ["EMBEDDING_DIMENSIONS", "DocumentChunk", "Memoire"]

#: Width of ``document_chunks.embedding`` (legacy: OpenAI text-embedding-3-small).
EMBEDDING_DIMENSIONS = 1536


class Memoire(TenantModel):
    """A past mémoire technique uploaded so its passages can be retrieved."""

    id = uuid_primary_key()
    filename = models.CharField(_("file name"), max_length=255)
    storage_path = models.CharField(_("storage path"), max_length=500)
    client = models.CharField(_("client"), max_length=255, blank=True, null=True)
    year = year_field(blank=True, null=True)
    indexed = models.BooleanField(_("indexed"), default=False, db_default=False, null=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        related_name="uploaded_memoires",
        verbose_name=_("uploaded by"),
        db_index=False,
        db_column="uploaded_by",
        null=True,
        blank=True,
    )
    project_type = models.CharField(_("project type"), max_length=100, blank=True, null=True)
    techniques_used = ArrayField(
        models.TextField(), verbose_name=_("techniques used"), blank=True, null=True
    )
    metadata = models.JSONField(_("metadata"), default=dict, db_default={}, blank=True)
    created_at = created_at(null=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "memoires"
        verbose_name = _("memoir")
        verbose_name_plural = _("memoirs")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["company"], name="idx_memoires_company_id"),
            models.Index(fields=["uploaded_by"], name="idx_memoires_uploaded_by"),
            GinIndex(fields=["techniques_used"], name="idx_memoires_techniques"),
        ]

    def __str__(self) -> str:
        return self.filename


class DocumentChunk(models.Model):
    """A passage of a memoir with its embedding (legacy table, unchanged)."""

    id = uuid_primary_key()
    memoire = models.ForeignKey(
        Memoire,
        on_delete=models.CASCADE,
        related_name="chunks",
        verbose_name=_("memoir"),
        db_index=False,
    )
    content = models.TextField(_("content"))
    embedding = VectorField(_("embedding"), dimensions=EMBEDDING_DIMENSIONS, blank=True, null=True)
    metadata = models.JSONField(_("metadata"), blank=True, null=True)
    created_at = created_at(null=True)

    objects = DocumentChunkQuerySet.as_manager()

    class Meta:
        db_table = "document_chunks"
        verbose_name = _("document chunk")
        verbose_name_plural = _("document chunks")
        ordering = ["memoire", "created_at"]
        indexes = [
            models.Index(fields=["memoire"], name="idx_chunks_memoire"),
            IvfflatIndex(
                fields=["embedding"],
                name="document_chunks_embedding_idx",
                lists=10,
                opclasses=["vector_cosine_ops"],
            ),
        ]

    def __str__(self) -> str:
        return self.content[:80]
