"""The project's admin site: French branding and a throttled login form."""

from __future__ import annotations

import math

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from audit import services as audit
from audit.services import client_ip
from tenants import login_throttle


class ThrottledAuthenticationForm(AdminAuthenticationForm):
    """The admin's login form, through the throttle (``tenants.login_throttle``)."""

    def clean(self):
        email = login_throttle.normalized(self.cleaned_data.get("username"))
        ip = client_ip(self.request)
        refused = None
        # The check, the password test and the failure row it may write happen under
        # the attempt's locks; the errors are raised once its transaction committed,
        # so that the failure (or the refusal) is recorded.
        with login_throttle.attempt(email, ip):
            wait = login_throttle.retry_after(email, ip)
            if wait is not None:
                account = login_throttle.account(email)
                audit.record(
                    login_throttle.LOGIN_THROTTLED,
                    request=self.request,
                    company_id=account.company_id if account else None,
                    resource_type="user",
                    resource_id=account.pk if account else None,
                    details={"email": email, "retry_after_s": round(wait.total_seconds())},
                )
            else:
                try:
                    cleaned = super().clean()
                except forms.ValidationError as error:
                    refused = error
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
        if refused is not None:
            raise refused
        return cleaned


class FieldAutocompleteView(AutocompleteJsonView):
    """Autocomplete for the form fields that have one: a model's own foreign keys and
    many-to-manys. Django also accepts the name of a reverse relation, and then fails
    (500); here it is refused like any other unknown field."""

    def process_request(self, request):
        term, model_admin, source_field, to_field_name = super().process_request(request)
        if getattr(source_field, "auto_created", False) and not source_field.concrete:
            raise PermissionDenied
        return term, model_admin, source_field, to_field_name


class EnpycoAdminSite(admin.AdminSite):
    site_header = _("Enpyco — technical memoirs")
    site_title = _("Enpyco")
    index_title = _("Dashboard")
    login_form = ThrottledAuthenticationForm

    def autocomplete_view(self, request):
        return FieldAutocompleteView.as_view(admin_site=self)(request)

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
