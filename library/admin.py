from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from library.forms import ContentBlockForm
from library.models import BlockFile, ContentBlock, PastProject, SectionTemplate, StoredFile
from tenants.admin_base import TenantScopedAdmin, TenantScopedInline


class BlockFileInline(TenantScopedInline, admin.TabularInline):
    model = BlockFile
    autocomplete_fields = ("file",)
    fields = ("file", "relationship")
    verbose_name = _("attached file")
    verbose_name_plural = _("attached files")


@admin.register(ContentBlock)
class ContentBlockAdmin(TenantScopedAdmin):
    form = ContentBlockForm
    creator_field = "created_by"
    list_display = ("title", "type", "version", "is_active", "tag_list", "updated_at")
    list_filter = ("type", "is_active", "created_by")
    search_fields = ("title",)
    ordering = ("-updated_at",)
    date_hierarchy = "updated_at"
    readonly_fields = ("version", "created_at", "updated_at")
    list_select_related = ()
    inlines = (BlockFileInline,)
    fieldsets = (
        (None, {"fields": ("company", "type", "title", "content", "tags", "is_active")}),
        (_("Metadata"), {"fields": ("metadata",)}),
        (
            _("Versioning"),
            {"fields": ("version", "expected_version", "created_by", "created_at", "updated_at")},
        ),
    )

    @admin.display(description=_("tags"))
    def tag_list(self, obj) -> str:
        return ", ".join(obj.tags or [])

    def save_model(self, request, obj, form, change):
        if change:
            obj.version = getattr(form, "locked_version", obj.version) + 1
        super().save_model(request, obj, form, change)


@admin.register(StoredFile)
class StoredFileAdmin(TenantScopedAdmin):
    creator_field = "uploaded_by"
    list_display = ("filename", "file_type", "size_bytes", "uploaded_at", "uploaded_by")
    list_filter = ("file_type", "uploaded_by")
    search_fields = ("filename",)
    ordering = ("-uploaded_at",)
    date_hierarchy = "uploaded_at"
    readonly_fields = ("uploaded_at",)
    list_select_related = ("uploaded_by",)


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
    list_display = ("name", "client", "year", "project_type", "is_referenceable")
    list_filter = ("is_referenceable", "project_type", "year")
    search_fields = ("name", "client", "description")
    ordering = ("-year", "name")
    date_hierarchy = "created_at"
    readonly_fields = ("created_at",)


@admin.register(SectionTemplate)
class SectionTemplateAdmin(TenantScopedAdmin):
    list_display = ("title", "section_type", "usage_count", "created_at")
    list_filter = ("section_type",)
    search_fields = ("title", "section_type", "template_content")
    ordering = ("section_type", "title")
    date_hierarchy = "created_at"
    readonly_fields = ("usage_count", "created_at")
