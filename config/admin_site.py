"""The project's admin site: French branding and a throttled login form."""

from __future__ import annotations

import math

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from audit import services as audit
from audit.services import client_ip
from tenants.login_throttle import retry_after


class ThrottledAuthenticationForm(AdminAuthenticationForm):
    def clean(self):
        email = self.cleaned_data.get("username")
        wait = retry_after(email, client_ip(self.request))
        if wait is not None:
            minutes = math.ceil(wait.total_seconds() / 60)
            raise forms.ValidationError(
                ngettext(
                    "Too many failed logins. Try again in %(minutes)d minute.",
                    "Too many failed logins. Try again in %(minutes)d minutes.",
                    minutes,
                )
                % {"minutes": minutes},
                code="throttled",
            )
        return super().clean()


class EnpycoAdminSite(admin.AdminSite):
    site_header = _("Enpyco — technical memoirs")
    site_title = _("Enpyco")
    index_title = _("Dashboard")
    login_form = ThrottledAuthenticationForm

    def password_change(self, request, extra_context=None):
        # Not a ModelAdmin view: write the audit row the user admin writes for the same
        # change (the password itself is redacted by ``diff``).
        old = request.user.password
        response = super().password_change(request, extra_context)
        if request.method == "POST" and request.user.password != old:
            audit.record_object(
                "update",
                request.user,
                request=request,
                changes=audit.diff({"password": old}, {"password": request.user.password}),
            )
        return response
