from __future__ import annotations

import datetime

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Func, TextField
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from config import cache_keys
from library import services
from library.fact_forms import display_facts
from library.files import store_upload
from library.forms import (
    ContentBlockForm,
    PastProjectForm,
    SectionTemplateForm,
    StoredFileForm,
)
from library.models import (
    BlockFile,
    ContentBlock,
    ContentBlockVersion,
    PastProject,
    SectionTemplate,
    StoredFile,
)
from library.querysets import EXPIRY_WARNING_DAYS
from tenants.admin_base import (
    TenantScopedAdmin,
    TenantScopedInline,
    company_of,
    is_platform_admin,
)


class BlockFileInline(TenantScopedInline, admin.TabularInline):
    model = BlockFile
    autocomplete_fields = ("file",)
    fields = ("file", "relationship")
    verbose_name = _("attached file")
    verbose_name_plural = _("attached files")


def validity_html(block) -> str:
    """A block's validity date, marked when expired or expiring soon; the fact that
    decides it in the tooltip."""
    until = block.valid_until
    if until is None:
        return "—"
    today = timezone.localdate()
    label = until.strftime("%d/%m/%Y")
    found = block.validity()
    reason = found.reason if found else ""
    if until < today:
        return format_html(
            '<span class="validity expired" title="{}" style="color:#ba2121">⚠ {} {}</span>',
            reason,
            _("expired"),
            label,
        )
    if until <= today + datetime.timedelta(days=EXPIRY_WARNING_DAYS):
        return format_html(
            '<span class="validity expiring" title="{}" style="color:#c86400">⏳ {} {}</span>',
            reason,
            _("expires"),
            label,
        )
    return format_html('<span class="validity valid" title="{}">{}</span>', reason, label)


class ExpiryFilter(admin.SimpleListFilter):
    title = _("validity")
    parameter_name = "validity"

    def lookups(self, request, model_admin):
        return (
            ("expired", _("Expired")),
            ("expiring", _("Expires within %(days)d days") % {"days": EXPIRY_WARNING_DAYS}),
            ("valid", _("Valid")),
        )

    def queryset(self, request, queryset):
        return {
            "expired": queryset.expired,
            "expiring": queryset.expiring,
            "valid": queryset.valid_beyond_warning,
        }.get(self.value(), lambda: queryset)()


class TagFilter(admin.SimpleListFilter):
    """The company's most used tags (counted at most every five minutes); any tag
    works through ``?tag=``. Filtering uses the GIN index (``tags @> ARRAY[…]``)."""

    title = _("tag")
    parameter_name = "tag"
    shown = 15

    def lookups(self, request, model_admin):
        company = "all" if is_platform_admin(request.user) else request.user.company_id
        most_used = (
            model_admin.get_queryset(request)  # the shared tenant scoping
            .order_by()
            .annotate(tag=Func(F("tags"), function="unnest", output_field=TextField()))
            .values("tag")
            .annotate(uses=Count("*"))
            .order_by("-uses", "tag")
            .values_list("tag", flat=True)[: self.shown]
        )
        tags = cache_keys.TOP_TAGS.get_or_set(lambda: list(most_used), company=company)
        value = self.value()
        if value and value not in tags:
            tags = [value, *tags]
        return [(tag, tag) for tag in tags]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.tagged_all([self.value()], company=company_of(request))
        return queryset


@admin.register(ContentBlock)
class ContentBlockAdmin(TenantScopedAdmin):
    form = ContentBlockForm
    creator_field = "created_by"
    list_display = ("title", "type", "version", "is_active", "validity", "tag_list", "updated_at")
    list_filter = ("type", "is_active", ExpiryFilter, TagFilter, "created_by")
    # The search box runs the French full-text search (see get_search_results).
    search_fields = ("title",)
    search_help_text = _("Words of the title, content or tags; accents and plurals are ignored.")
    list_defer = ("content", "search_document", "embedding_384")
    ordering = ("-updated_at",)
    date_hierarchy = "updated_at"
    readonly_fields = ("validity_detail", "version", "versions_link", "created_at", "updated_at")
    inlines = (BlockFileInline,)
    change_form_template = "admin/library/contentblock/change_form.html"
    # The block's typed facts follow the first fieldset (facts.html, from form.facts).
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "company",
                    "type",
                    "title",
                    "content",
                    "tags",
                    "is_active",
                    "validity_detail",
                )
            },
        ),
        (
            _("Versioning"),
            {
                "fields": (
                    "version",
                    "versions_link",
                    "expected_version",
                    "created_by",
                    "created_at",
                    "updated_at",
                )
            },
        ),
    )

    @admin.display(description=_("tags"))
    def tag_list(self, obj) -> str:
        return ", ".join(obj.tags or [])

    @admin.display(description=_("validity"), ordering="valid_until")
    def validity(self, obj) -> str:
        return validity_html(obj)

    @admin.display(description=_("validity"))
    def validity_detail(self, obj) -> str:
        """The validity and the fact that decides it ("CACES R482 cat. A")."""
        if obj is None or obj.pk is None:
            return _("Derived from the dates of the facts once saved.")
        found = obj.validity()
        if found is None:
            return _("No expiry: none of its facts is dated.")
        return format_html(
            "{} — {}", validity_html(obj), _("earliest expiry: %(fact)s") % {"fact": found.reason}
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        form = context["adminform"].form
        can_edit = (
            self.has_change_permission(request, obj) if obj else self.has_add_permission(request)
        )
        context["facts"] = form.facts
        context["facts_readonly"] = not can_edit
        shown = form.data.get("type") if form.is_bound else (obj.type if obj else None)
        context["facts_shown_type"] = shown
        if not can_edit and obj is not None:
            context["facts_display"] = display_facts(obj.type, obj.metadata)
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description=_("history"))
    def versions_link(self, obj) -> str:
        if obj is None or obj.pk is None:
            return "—"
        count = obj.versions.count()
        url = reverse("admin:library_contentblock_versions", args=[obj.pk])
        return format_html(
            '<a href="{}">{}</a>', url, _("%(count)d earlier version(s)") % {"count": count}
        )

    def save_model(self, request, obj, form, change):
        # The one save path of blocks (lock, version, history); the form's clean()
        # already refused a stale version with a form error.
        self.set_server_fields(request, obj, change)
        services.save_block(
            obj.company_id,
            obj,
            user=request.user,
            expected_version=form.cleaned_data.get("expected_version"),
        )

    # --- deletion refused while the block is used --------------------------------------
    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        references = services.references_to_blocks(objs)
        for obj in objs:
            for ref in references.get(obj.pk, []):
                protected.append(
                    _(
                        "“%(block)s” is used by %(kind)s “%(what)s” of project “%(project)s”: deactivate it instead."
                    )
                    % {
                        "block": obj,
                        "kind": ref._meta.verbose_name,
                        "what": getattr(ref, "requirement_id", None) or ref,
                        "project": ref.project.name,
                    }
                )
        return deleted, model_count, perms_needed, protected

    # --- history ------------------------------------------------------------------------
    def get_urls(self):
        return [
            path(
                "<path:object_id>/versions/",
                self.admin_site.admin_view(self.versions_view),
                name="library_contentblock_versions",
            ),
            path(
                "<path:object_id>/versions/<int:version>/restore/",
                self.admin_site.admin_view(self.restore_view),
                name="library_contentblock_restore",
            ),
            *super().get_urls(),
        ]

    def versions_view(self, request, object_id):
        block = self.get_object(request, object_id)
        if block is None:
            return self.missing_object_response(request, object_id)
        if not self.has_view_permission(request, block):
            raise PermissionDenied
        versions = block.versions.select_related("replaced_by").order_by("-version")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": block,
            "title": _("History of “%(block)s”") % {"block": block},
            "versions": versions,
            "can_restore": self.has_change_permission(request, block),
        }
        return TemplateResponse(request, "admin/library/contentblock/versions.html", context)

    def restore_view(self, request, object_id, version):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        block = self.get_object(request, object_id)
        if block is None:
            return self.missing_object_response(request, object_id)
        if not self.has_change_permission(request, block):
            raise PermissionDenied
        try:
            restored = services.restore_version(
                block.company_id, block.pk, version, user=request.user, request=request
            )
        except ContentBlockVersion.DoesNotExist:
            raise Http404 from None
        self.message_user(
            request,
            _("Version %(old)d restored as version %(new)d.")
            % {"old": version, "new": restored.version},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:library_contentblock_change", args=[block.pk]))


@admin.register(StoredFile)
class StoredFileAdmin(TenantScopedAdmin):
    form = StoredFileForm
    creator_field = "uploaded_by"
    download_path_field = "storage_url"
    list_display = ("filename", "file_type", "size", "uploaded_at", "uploaded_by")
    list_filter = ("uploaded_by",)
    search_fields = ("filename",)
    ordering = ("-uploaded_at",)
    date_hierarchy = "uploaded_at"
    readonly_fields = ("filename", "file_type", "size", "sha256", "download_link", "uploaded_at")
    list_select_related = ("uploaded_by",)
    fieldsets = (
        (None, {"fields": ("company", "upload", "filename", "download_link")}),
        (_("Details"), {"fields": ("file_type", "size", "sha256", "uploaded_by", "uploaded_at")}),
        (_("Other"), {"fields": ("metadata",), "classes": ("collapse",)}),
    )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        # A stored file's content never changes (its hash names it): upload a new one.
        return [
            (name, {**opts, "fields": [f for f in opts["fields"] if f != "upload"]})
            for name, opts in fieldsets
        ]

    @admin.display(description=_("size"), ordering="size_bytes")
    def size(self, obj) -> str:
        from django.template.defaultfilters import filesizeformat

        return filesizeformat(obj.size_bytes) if obj.size_bytes is not None else "—"

    @admin.display(description=_("file"))
    def download_link(self, obj) -> str:
        if obj is None or obj.pk is None:
            return "—"
        url = reverse("admin:library_storedfile_download", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download"))

    def save_model(self, request, obj, form, change):
        upload = form.cleaned_data.get("upload")
        if change or not upload:
            return super().save_model(request, obj, form, change)
        company_id = obj.company_id if is_platform_admin(request.user) else request.user.company_id
        stored, created = store_upload(
            upload,
            company_id=company_id,
            user=request.user,
            checked=form.checked_upload,
            metadata=form.cleaned_data.get("metadata") or {},
        )
        if not created:
            obj._audit_skip_create = True  # nothing was created: the existing file is shown
            self.message_user(
                request,
                _("This file was already in the library as “%(name)s”: it was not stored twice.")
                % {"name": stored.filename},
                messages.WARNING,
            )
        obj.pk = stored.pk
        obj._state.adding = False
        obj.refresh_from_db()


@admin.register(BlockFile)
class BlockFileAdmin(TenantScopedAdmin):
    list_display = ("block", "file", "relationship", "created_at")
    list_filter = ("relationship",)
    search_fields = ("block__title", "file__filename")
    autocomplete_fields = ("block", "file")
    ordering = ("-created_at",)
    list_select_related = ("block", "file")


@admin.register(PastProject)
class PastProjectAdmin(TenantScopedAdmin):
    form = PastProjectForm
    array_item_max_lengths = {"photos": 2000}
    list_display = ("name", "client", "year", "project_type", "is_referenceable")
    list_defer = ("description", "embedding_384")
    list_filter = ("is_referenceable", "project_type", "year")
    search_fields = ("name", "client", "description")
    ordering = ("-year", "name")
    date_hierarchy = "created_at"
    readonly_fields = ("created_at",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "company",
                    "name",
                    "client",
                    "year",
                    "project_type",
                    "amount",
                    "lot",
                    "description",
                    "is_referenceable",
                )
            },
        ),
        (_("Techniques"), {"fields": ("techniques_used", "success_factors", "photos")}),
        (_("Other facts"), {"fields": ("metadata", "created_at")}),
    )

    def save_model(self, request, obj, form, change):
        # Saved and its embedding queued for matching (library.services).
        self.set_server_fields(request, obj, change)
        services.save_past_project(obj.company_id, obj, user=request.user)


@admin.register(SectionTemplate)
class SectionTemplateAdmin(TenantScopedAdmin):
    form = SectionTemplateForm
    list_display = ("title", "section_type", "usage_count", "created_at")
    list_filter = ("section_type",)
    search_fields = ("title", "section_type", "template_content")
    ordering = ("section_type", "title")
    date_hierarchy = "created_at"
    readonly_fields = ("usage_count", "created_at")
