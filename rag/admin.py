from __future__ import annotations

from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from rag.models import DocumentChunk, Memoire
from tenants.admin_base import TenantScopedAdmin, TenantScopedInline


class _FirstChunksFormSet(BaseInlineFormSet):
    """Only the first chunks: a 300-page memoir must not render 1,000 forms."""

    limit = 50

    def get_queryset(self):
        return list(super().get_queryset()[: self.limit])


class DocumentChunkInline(TenantScopedInline, admin.TabularInline):
    model = DocumentChunk
    formset = _FirstChunksFormSet
    fields = ("excerpt", "page", "heading", "has_embedding")
    readonly_fields = fields
    can_delete = False
    show_change_link = True
    verbose_name_plural = _("document chunks (first 50)")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("excerpt"))
    def excerpt(self, obj) -> str:
        return Truncator(obj.content).chars(160)

    @admin.display(description=_("page"))
    def page(self, obj):
        return (obj.metadata or {}).get("page", "—")

    @admin.display(description=_("heading"))
    def heading(self, obj):
        return (obj.metadata or {}).get("heading", "—")

    @admin.display(description=_("embedded"), boolean=True)
    def has_embedding(self, obj) -> bool:
        return obj.embedding is not None


@admin.register(Memoire)
class MemoireAdmin(TenantScopedAdmin):
    creator_field = "uploaded_by"
    list_display = ("filename", "client", "year", "project_type", "indexed", "created_at")
    list_filter = ("indexed", "year", "project_type", "uploaded_by")
    search_fields = ("filename", "client")
    ordering = ("-created_at",)
    date_hierarchy = "created_at"
    readonly_fields = ("indexed", "created_at")
    inlines = (DocumentChunkInline,)


@admin.register(DocumentChunk)
class DocumentChunkAdmin(TenantScopedAdmin):
    """Chunks are written by indexing only: read-only for everyone."""

    list_display = ("excerpt", "memoire", "page", "created_at")
    list_filter = ("memoire",)
    search_fields = ("content",)
    autocomplete_fields = ("memoire",)
    ordering = ("memoire", "created_at")
    list_select_related = ("memoire",)
    exclude = ("embedding",)
    readonly_fields = ("memoire", "content", "metadata", "created_at")

    excerpt = DocumentChunkInline.excerpt
    page = DocumentChunkInline.page

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
