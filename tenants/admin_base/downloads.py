"""Files served by the admin, to whoever may view their object and only to them:
stored files have no public URL."""

from __future__ import annotations

import mimetypes

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.urls import path


class DownloadMixin:
    #: A field holding a path in the storage makes the admin serve that file at
    #: ``<id>/download/``.
    download_path_field: str | None = None
    download_name_field = "filename"
    download_type_field: str | None = None

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
        filename = getattr(obj, self.download_name_field)
        content_type = (
            (getattr(obj, self.download_type_field) if self.download_type_field else None)
            or mimetypes.guess_type(filename)[0]
            or "application/octet-stream"
        )
        return FileResponse(
            handle, as_attachment=True, filename=filename, content_type=content_type
        )
