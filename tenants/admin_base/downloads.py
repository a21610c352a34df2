"""Files served by the admin, to whoever may view their object and only to them:
stored files have no public URL."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.urls import path

from config.filetypes import sniff


class DownloadMixin:
    #: A field holding a path in the storage makes the admin serve that file at
    #: ``<id>/download/``.
    download_path_field: str | None = None
    download_name_field = "filename"

    def get_urls(self):
        urls = super().get_urls()
        if self.download_path_field:
            name = f"{self.opts.app_label}_{self.opts.model_name}_download"
            view = self.admin_site.admin_view(self.download_view)
            urls = [path("<path:object_id>/download/", view, name=name), *urls]
        return urls

    def download_view(self, request, object_id):
        obj = self.get_object(request, object_id)
        if obj is None or not self.has_view_permission(request, obj):
            raise Http404
        try:
            handle = default_storage.open(getattr(obj, self.download_path_field), "rb")
        except (FileNotFoundError, OSError) as exc:
            raise Http404 from exc
        # The type comes from the content, never from the uploader's name for it (an
        # ``.html`` "memoir" is not served as a page), and the browser is told not to
        # guess another one.
        head = handle.read(8192)
        kind = sniff(head, handle)
        handle.seek(0)
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=getattr(obj, self.download_name_field),
            content_type=kind.mime_type if kind else "application/octet-stream",
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response
