from __future__ import annotations

import uuid

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db.models import BooleanField, ExpressionWrapper, IntegerField, Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from config import storage
from jobs.models import Job
from rag import services
from rag.embeddings import EmbeddingError, get_backend
from rag.forms import MemoireForm, PassageSearchForm
from rag.indexing import stale_chunk_count
from rag.models import DocumentChunk, Memoire
from rag.search import search_passages
from rag.tasks import queue_indexing, queue_reembedding
from tenants.admin_base import (
    TenantScopedAdmin,
    is_platform_admin,
    scope_queryset,
)
from tenants.admin_base.scoping import company_of

#: Whether a chunk has a vector, in either column (384-dimension models such as the
#: default multilingual-e5-small write ``embedding_384``, others ``embedding``).
_EMBEDDED = ExpressionWrapper(
    Q(embedding__isnull=False) | Q(embedding_384__isnull=False), output_field=BooleanField()
)

#: Columns no list shows and that cost their parsing on every row: the vectors (384 or
#: 1,536 floats each) and the generated full-text document.
_WIDE_CHUNK_COLUMNS = ("embedding", "embedding_384", "search_document")


#: A chunk's position in its memoir, as indexing numbered it.
_POSITION = Cast(KeyTextTransform("chunk_index", "metadata"), IntegerField())


class MemoireListFilter(admin.SimpleListFilter):
    """The passages of one memoir (``?memoire=<id>``, linked from the memoir's page).

    A company holds thousands of memoirs: listing them all as filter choices would cost
    more than the page itself, so only the chosen one is shown."""

    title = _("memoir")
    parameter_name = "memoire"

    def lookups(self, request, model_admin):
        try:
            chosen = uuid.UUID(self.value() or "")
        except ValueError:
            return ()
        memoire = scope_queryset(request, Memoire.objects.filter(pk=chosen)).first()
        return ((str(memoire.pk), str(memoire)),) if memoire else ()

    def queryset(self, request, queryset):
        try:
            chosen = uuid.UUID(self.value() or "")
        except ValueError:
            return queryset if not self.value() else queryset.none()
        return queryset.filter(memoire_id=chosen)


def excerpt(text: str, length: int = 160) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


#: Passages shown on a memoir's page (the chunk list has them all).
FIRST_PASSAGES = 50


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
    readonly_fields = (
        "filename",
        "download_link",
        "indexed",
        "index_status",
        "passages",
        "sha256",
        "created_at",
    )
    actions = ("reindex", "reembed")
    change_list_template = "admin/rag/memoire/change_list.html"
    fieldsets = (
        (None, {"fields": ("company", "document", "filename", "download_link")}),
        (_("Description"), {"fields": ("client", "year", "project_type", "techniques_used")}),
        (
            _("Indexing"),
            {"fields": ("indexed", "index_status", "uploaded_by", "created_at", "sha256")},
        ),
        (_("Passages"), {"fields": ("passages",)}),
        (_("Other"), {"fields": ("metadata",), "classes": ("collapse",)}),
    )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        # Without a company field (a company's member), the form still needs the
        # company to find an identical memoir.
        return type(form.__name__, (form,), {"acting_company_id": company_of(request, obj)})

    # --- upload and indexing -----------------------------------------------------
    def save_model(self, request, obj, form, change):
        upload = form.cleaned_data.get("document")
        if upload:
            self.set_server_fields(request, obj, change)
            checked = form.checked_upload
            obj.sha256 = checked.sha256
            obj.filename = checked.name
            obj.storage_path = default_storage.save(
                storage.memoir_path(obj.company_id, obj.pk, checked.name), upload
            )
        super().save_model(request, obj, form, change)
        if upload:
            # In the admin's transaction: the job exists once the memoir does.
            queue_indexing(obj.company_id, obj, user=request.user)
            self.message_user(
                request,
                _("“%(memoire)s” is queued for indexing: its page shows the progress.")
                % {"memoire": obj},
                messages.INFO,
            )

    @admin.action(permissions=["change"], description=_("Re-index the selected memoirs"))
    def reindex(self, request, queryset):
        count = 0
        for memoire in queryset:
            queue_indexing(memoire.company_id, memoire, user=request.user)
            count += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d memoir queued for indexing.",
                "%(count)d memoirs queued for indexing.",
                count,
            )
            % {"count": count},
            messages.INFO,
        )

    @admin.action(permissions=["change"], description=_("Re-embed the passages of another model"))
    def reembed(self, request, queryset):
        count = self._queue_reembedding(request, queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)d memoir queued for re-embedding.",
                "%(count)d memoirs queued for re-embedding.",
                count,
            )
            % {"count": count},
            messages.INFO,
        )

    def _queue_reembedding(self, request, queryset) -> int:
        model = get_backend().model_name
        stale = (
            DocumentChunk.objects.filter(memoire_id__in=queryset.values("pk"))
            .exclude(metadata__embedding_model=model)
            .values("memoire_id")
        )
        count = 0
        for memoire in queryset.filter(pk__in=stale):
            queue_reembedding(memoire.company_id, memoire, user=request.user)
            count += 1
        return count

    def reembed_stale_view(self, request):
        """POST from the memoir list's banner: re-embed every stale memoir."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        try:
            self.reembed(request, self.get_queryset(request))
        except EmbeddingError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        return HttpResponseRedirect(reverse("admin:rag_memoire_changelist"))

    # --- deletion -------------------------------------------------------------------
    def get_deleted_objects(self, objs, request):
        """A memoir's chunks go with it: deleting it needs no permission on chunks,
        which nobody edits by hand."""
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        perms_needed.discard(DocumentChunk._meta.verbose_name)
        return deleted, model_count, perms_needed, protected

    def delete_model(self, request, obj):
        # log_deletions has written the audit rows.
        services.delete_memoires(obj.company_id, [obj], audited=False)

    def delete_queryset(self, request, queryset):
        for company in {m.company_id for m in queryset}:
            services.delete_memoires(
                company, [m for m in queryset if m.company_id == company], audited=False
            )

    def annotate_page(self, request, rows) -> None:
        running = {}
        jobs = (
            Job.objects.filter(
                target_type=Memoire._meta.label_lower, target_id__in=[r.pk for r in rows]
            )
            .unfinished()
            .order_by("target_id", "-created_at")
            .distinct("target_id")
        )
        for job in scope_queryset(request, jobs):
            running[job.target_id] = job
        for row in rows:
            row._running_job = running.get(row.pk)

    @admin.display(description=_("indexing"))
    def index_status(self, obj) -> str:
        if obj is None or obj.pk is None:
            return "—"
        job = getattr(obj, "_running_job", "unknown")
        if job == "unknown":  # the change page: its latest job, whatever its state
            job = Job.objects.filter(company_id=obj.company_id).of(obj).first()
            if job is not None and not job.finished:
                return render_to_string("jobs/progress.html", {"job": job, "reload": True})
            job = None
        if job is not None:
            return render_to_string("jobs/progress.html", {"job": job})
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

    @admin.display(description=_("passages"))
    def passages(self, obj) -> str:
        """The memoir's first passages in document order, as a plain table (a read-only
        inline formset of 50 rows costs more than the rest of the page)."""
        if obj is None or obj._state.adding:
            return "—"
        chunks = list(
            DocumentChunk.objects.filter(memoire_id=obj.pk)
            .defer(*_WIDE_CHUNK_COLUMNS)
            .annotate(embedded=_EMBEDDED)
            .order_by(_POSITION, "id")[: FIRST_PASSAGES + 1]
        )
        if not chunks:
            return "—"
        return render_to_string(
            "admin/rag/memoire/passages.html",
            {
                "chunks": [
                    {
                        "pk": chunk.pk,
                        "position": (chunk.metadata or {}).get("chunk_index"),
                        "page": (chunk.metadata or {}).get("page"),
                        "heading": (chunk.metadata or {}).get("heading"),
                        "excerpt": excerpt(chunk.content),
                        "embedded": chunk.embedded,
                    }
                    for chunk in chunks[:FIRST_PASSAGES]
                ],
                "more": len(chunks) > FIRST_PASSAGES,
                "all_url": reverse("admin:rag_documentchunk_changelist") + f"?memoire={obj.pk}",
                "shown": FIRST_PASSAGES,
            },
        )

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
            path(
                "reembed-stale/",
                self.admin_site.admin_view(self.reembed_stale_view),
                name="rag_memoire_reembed_stale",
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
            extra_context["can_reembed"] = self.has_change_permission(request)
        except EmbeddingError:
            pass
        return super().changelist_view(request, extra_context)


@admin.register(DocumentChunk)
class DocumentChunkAdmin(TenantScopedAdmin):
    """Chunks are written by indexing only: read-only for everyone."""

    list_display = ("excerpt", "memoire", "page")
    list_filter = (MemoireListFilter,)
    search_fields = ("content",)
    # Off the memoire_id index (each memoir's chunks then sorted by position), not a
    # sort of the company's every chunk by its memoir's date.
    ordering = ("memoire_id", _POSITION, "id")
    list_select_related = ("memoire",)
    exclude = ("embedding", "embedding_384")
    readonly_fields = ("memoire", "content", "vector", "metadata", "created_at")

    def get_queryset(self, request):
        # Whether a passage has a vector, not the vector itself.
        return (
            super().get_queryset(request).defer(*_WIDE_CHUNK_COLUMNS).annotate(embedded=_EMBEDDED)
        )

    @admin.display(description=_("vector"))
    def vector(self, obj) -> str:
        if not getattr(obj, "embedded", False):
            return _("none: the passage is found by its words only until it is embedded")
        return _("yes (%(model)s)") % {"model": (obj.metadata or {}).get("embedding_model") or "—"}

    @admin.display(description=_("excerpt"))
    def excerpt(self, obj) -> str:
        return excerpt(obj.content)

    @admin.display(description=_("page"))
    def page(self, obj):
        return (obj.metadata or {}).get("page") or "—"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # re-index the memoir instead
