from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from pgvector.django import HnswIndex, VectorField

from config.db.fields import created_at, uuid_primary_key, year_field
from config.db.search import ChunkDocument
from rag.querysets import DocumentChunkQuerySet
from tenants.managers import TenantQuerySet
from tenants.models import CompanyChildModel, TenantModel

__all__ = [
    "EMBEDDING_DIMENSIONS",
    "SMALL_EMBEDDING_DIMENSIONS",
    "DocumentChunk",
    "Memoire",
    "vector_column",
]

#: Width of ``document_chunks.embedding`` (legacy: OpenAI text-embedding-3-small).
EMBEDDING_DIMENSIONS = 1536
#: Width of ``document_chunks.embedding_384``, the column of 384-dimension models (the
#: default multilingual-e5-small, MiniLM). Zero-padded into vector(1536) they made the
#: HNSW index 4 times larger (391 MB instead of 98 MB for 50,000 chunks), its build 4
#: times slower and a search 2.4 times slower (docs/performance.md, "Memoir search").
SMALL_EMBEDDING_DIMENSIONS = 384


def vector_column(dimensions: int) -> str:
    """The column holding vectors of ``dimensions``: 384-dimension vectors have their
    own; any other width up to 1536 is zero-padded into the contract's column (which
    keeps cosine similarity exact)."""
    return "embedding_384" if dimensions == SMALL_EMBEDDING_DIMENSIONS else "embedding"


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
    #: SHA-256 of the stored document: the same file is not uploaded twice by a company.
    sha256 = models.CharField(
        _("SHA-256"), max_length=64, blank=True, null=True, editable=False, db_index=False
    )
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
        constraints = [
            # What the foreign keys of its child rows on (company_id, …_id) refer to.
            models.UniqueConstraint(
                fields=["company", "id"],
                name="memoires_company_id_id_key",
                violation_error_message=_("This row already exists."),
            ),
            models.UniqueConstraint(
                fields=["company", "sha256"],
                condition=Q(sha256__isnull=False),
                name="memoires_company_sha256_unique",
                violation_error_message=_("This company already has a memoir with this file."),
            ),
        ]

    def __str__(self) -> str:
        return self.filename


class DocumentChunk(CompanyChildModel):
    """A passage of a memoir with its embedding (legacy table, extended).

    ``metadata`` holds the chunk's page, heading path, memoir title, position and the
    model that embedded it. The vector is in ``embedding`` (the legacy 1536-dimension
    column) or ``embedding_384`` (see ``vector_column``), never both.
    ``search_document`` is the chunk's French full-text document, title and headings
    included (``config.db.search.ChunkDocument``), stored so ranking reads it.
    """

    company_parent = "memoire"
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
    embedding_384 = VectorField(
        _("embedding (384 dimensions)"),
        dimensions=SMALL_EMBEDDING_DIMENSIONS,
        blank=True,
        null=True,
    )
    metadata = models.JSONField(_("metadata"), blank=True, null=True)
    search_document = models.GeneratedField(
        expression=ChunkDocument(),
        output_field=SearchVectorField(),
        db_persist=True,
        verbose_name=_("search document"),
    )
    created_at = created_at(null=True)

    objects = DocumentChunkQuerySet.as_manager()

    class Meta:
        db_table = "document_chunks"
        verbose_name = _("document chunk")
        verbose_name_plural = _("document chunks")
        ordering = ["memoire", "created_at"]
        indexes = [
            models.Index(fields=["company", "memoire"], name="idx_document_chunks_company"),
            models.Index(fields=["memoire"], name="idx_chunks_memoire"),
            # What rag.0005 builds where the server has HNSW (pgvector 0.5+) and the table
            # is small enough to build it during the migration; otherwise the vector
            # index job builds a suited one (rag.vector_index).
            HnswIndex(
                fields=["embedding"],
                name="document_chunks_embedding_idx",
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
            HnswIndex(
                fields=["embedding_384"],
                name="document_chunks_embedding_384_idx",
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
            GinIndex(fields=["search_document"], name="idx_chunks_search"),
        ]

    def __str__(self) -> str:
        return self.content[:80]


class ChunkLexeme(models.Model):
    """How many of a company's chunks hold each lexeme of their search document: what
    weighs a question's words (a rare word weighs more, as BM25's inverse document
    frequency does). Kept by the indexing's swap of a memoir's chunks, for the company
    only: the server's own statistics (``pg_stats``) are not readable under row-level
    security, and they would mix every company's vocabulary."""

    pk = models.CompositePrimaryKey("company", "lexeme")
    company = models.ForeignKey(
        "tenants.Company",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("company"),
        db_index=False,
    )
    lexeme = models.TextField(_("lexeme"))
    chunks = models.IntegerField(_("chunks"))

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "chunk_lexemes"
        verbose_name = _("lexeme count")
        verbose_name_plural = _("lexeme counts")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(chunks__gt=0),
                name="chunk_lexemes_chunks_positive",
                violation_error_message=_("A lexeme is counted in at least one chunk."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lexeme} ({self.chunks})"
