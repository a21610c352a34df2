"""Files served by the admin, to whoever may view their object and only to them:
stored files have no public URL."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.urls import path

from config.filetypes import sniff


def serve_stored(path: str | None, filename: str, *, inline=()) -> FileResponse:
    """The stored file at ``path`` (404 when there is none), downloaded as
    ``filename``, or shown in the page when its content is of one of the ``inline``
    kinds.

    The type comes from the content, never from the uploader's name for it (an
    ``.html`` "memoir" is not served as a page), and the browser is told not to guess
    another one."""
    if not path:
        raise Http404
    try:
        handle = default_storage.open(path, "rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    kind = sniff(handle.read(8192), handle)
    handle.seek(0)
    response = FileResponse(
        handle,
        as_attachment=kind not in inline,
        filename=filename,
        content_type=kind.mime_type if kind else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


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
        return serve_stored(
            getattr(obj, self.download_path_field), getattr(obj, self.download_name_field)
        )
