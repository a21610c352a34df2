"""The error pages (403, 404, 500) in French and in the admin's style."""

from __future__ import annotations

import contextlib

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template import loader


def _page(request: HttpRequest, template: str, status: int, *, full: bool = True) -> HttpResponse:
    site = admin.site
    context = {
        "site_header": site.site_header,
        "site_title": site.site_title,
        "site_url": site.site_url,
        "is_popup": False,
        "is_nav_sidebar_enabled": False,
    }
    if full:
        # An error page must render whatever failed.
        with contextlib.suppress(Exception):
            context.update(site.each_context(request))
        context["is_nav_sidebar_enabled"] = False
    return HttpResponse(loader.render_to_string(template, context, request), status=status)


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    return _page(request, "403.html", 403)


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return _page(request, "404.html", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Nothing that may fail again (the database, the session): the brand only.
    return HttpResponse(
        loader.render_to_string(
            "500.html",
            {
                "site_header": admin.site.site_header,
                "site_title": admin.site.site_title,
                "site_url": "/",
            },
        ),
        status=500,
    )
