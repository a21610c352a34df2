"""Request and response guards shared by every view."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponseBadRequest
from django.utils.translation import gettext as _


class RefuseNullBytesMiddleware:
    """A NUL byte in the query string can only be an attack or a broken client: no text
    column of PostgreSQL can even be compared with it (the query fails with an error).
    Such a request is refused with a 400 before any view reads it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in request.GET.getlist(key))
            for key in request.GET
        ):
            return HttpResponseBadRequest(
                _("This request contains invalid characters."), content_type="text/plain"
            )
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """A Content-Security-Policy and a Permissions-Policy on every HTML response (the
    admin's pages load scripts, styles and images from the site only)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY:
            response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        if settings.PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
