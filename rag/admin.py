from __future__ import annotations

import functools
import uuid
from pathlib import PurePath

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import transaction
from django.forms.models import BaseInlineFormSet
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from audit import services as audit
from rag.embeddings import EmbeddingError, get_backend
from rag.forms import MemoireForm, PassageSearchForm
from rag.indexing import IndexingError, index_memoire, memoir_storage_path, stale_chunk_count
from rag.models import DocumentChunk, Memoire
from rag.search import search_passages
from tenants.admin_base import TenantScopedAdmin, TenantScopedInline, is_platform_admin


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
        return (obj.metadata or {}).get("page") or "—"

    @admin.display(description=_("heading"))
    def heading(self, obj):
        return (obj.metadata or {}).get("heading") or "—"

    @admin.display(description=_("embedded"), boolean=True)
    def has_embedding(self, obj) -> bool:
        return obj.embedding is not None


@admin.register(Memoire)
class MemoireAdmin(TenantScopedAdmin):
    form = MemoireForm
    creator_field = "uploaded_by"
    download_path_field = "storage_path"
    list_display = (
        "filename",
        "client",
        "year",
        "project_type",
        "indexed",
        "index_status",
        "created_at",
    )
    list_filter = ("indexed", "year", "project_type", "uploaded_by")
    search_fields = ("filename", "client")
    ordering = ("-created_at",)
    date_hierarchy = "created_at"
    readonly_fields = ("filename", "download_link", "indexed", "index_status", "created_at")
    inlines = (DocumentChunkInline,)
    actions = ("reindex",)
    change_list_template = "admin/rag/memoire/change_list.html"
    fieldsets = (
        (None, {"fields": ("company", "document", "filename", "download_link")}),
        (_("Description"), {"fields": ("client", "year", "project_type", "techniques_used")}),
        (_("Indexing"), {"fields": ("indexed", "index_status", "uploaded_by", "created_at")}),
        (_("Other"), {"fields": ("metadata",), "classes": ("collapse",)}),
    )

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()  # no chunks before indexing

    # --- upload and indexing -----------------------------------------------------
    def save_model(self, request, obj, form, change):
        upload = form.cleaned_data.get("document")
        if upload:
            if not change and not is_platform_admin(request.user):
                obj.company_id = request.user.company_id
            name = PurePath(upload.name).name
            obj.filename = name[:255]
            obj.storage_path = default_storage.save(
                memoir_storage_path(obj.company_id, obj.pk, name), upload
            )
        super().save_model(request, obj, form, change)
        if upload:
            transaction.on_commit(functools.partial(self._index, request, obj))

    def _index(self, request, memoire) -> None:
        try:
            result = index_memoire(memoire)
        except (IndexingError, EmbeddingError) as exc:
            audit.record_object("index", memoire, request=request, extra={"error": str(exc)})
            self.message_user(
                request,
                _("“%(memoire)s” could not be indexed: %(error)s")
                % {"memoire": memoire, "error": exc},
                messages.ERROR,
            )
            return
        audit.record_object(
            "index",
            memoire,
            request=request,
            extra={
                "chunks": result.chunks,
                "model": result.model,
                "seconds": round(result.seconds, 2),
            },
        )
        self.message_user(
            request,
            ngettext(
                "“%(memoire)s” indexed: %(count)d passage in %(seconds)s s.",
                "“%(memoire)s” indexed: %(count)d passages in %(seconds)s s.",
                result.chunks,
            )
            % {
                "memoire": memoire,
                "count": result.chunks,
                "seconds": formats.number_format(result.seconds, 1),
            },
            messages.SUCCESS,
        )

    @admin.action(permissions=["change"], description=_("Re-index the selected memoirs"))
    def reindex(self, request, queryset):
        for memoire in queryset:
            self._index(request, memoire)

    @admin.display(description=_("indexing"))
    def index_status(self, obj) -> str:
        status = (obj.metadata or {}).get("index") or {}
        if status.get("status") == "failed":
            return format_html(
                '<span style="color:#ba2121">{}</span>',
                _("failed: %(error)s") % {"error": status.get("error")},
            )
        if status.get("status") == "indexed":
            return ngettext(
                "%(chunks)s passage (%(model)s)",
                "%(chunks)s passages (%(model)s)",
                status.get("chunks") or 0,
            ) % {
                "chunks": status.get("chunks"),
                "model": status.get("model"),
            }
        return "—"

    @admin.display(description=_("file"))
    def download_link(self, obj) -> str:
        if obj is None or not obj.pk or not obj.storage_path:
            return "—"
        url = reverse("admin:rag_memoire_download", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download"))

    # --- extra pages ------------------------------------------------------------
    def get_urls(self):
        return [
            path(
                "search/", self.admin_site.admin_view(self.search_view), name="rag_memoire_search"
            ),
            *super().get_urls(),
        ]

    def search_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        company_id = request.user.company_id
        if is_platform_admin(request.user):
            try:
                company_id = uuid.UUID(request.GET.get("company", ""))
            except ValueError:
                company_id = None
        memoires = self.get_queryset(request)
        if company_id:
            memoires = memoires.filter(company_id=company_id)
        form = PassageSearchForm(request.GET or None, memoires=memoires.order_by("filename"))
        passages, facts, error = [], {}, None
        if form.is_valid() and company_id:
            selected = [m.pk for m in form.cleaned_data["memoires"]]
            try:
                passages, facts = search_passages(
                    company_id,
                    form.cleaned_data["query"],
                    k=form.cleaned_data["k"],
                    memoire_ids=selected or None,
                )
            except EmbeddingError as exc:
                error = str(exc)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Search the memoirs"),
            "form": form,
            "passages": passages,
            "facts": facts,
            "error": error,
            "needs_company": is_platform_admin(request.user) and not company_id,
        }
        return TemplateResponse(request, "admin/rag/memoire/search.html", context)

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        try:
            company = None if is_platform_admin(request.user) else request.user.company_id
            extra_context["stale_chunks"] = stale_chunk_count(company, get_backend().model_name)
            extra_context["embedding_model"] = get_backend().model_name
        except EmbeddingError:
            pass
        return super().changelist_view(request, extra_context)


@admin.register(DocumentChunk)
class DocumentChunkAdmin(TenantScopedAdmin):
    """Chunks are written by indexing only: read-only for everyone."""

    list_display = ("excerpt", "memoire", "page", "created_at")
    list_filter = ("memoire",)
    search_fields = ("content",)
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

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # re-index the memoir instead
