"""The project's admin site: French branding and a throttled login form."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.functional import Promise
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


@dataclass(frozen=True)
class Page:
    """A page of the admin that is no model's list, listed in a menu for those with
    ``permission``; read-only for those without ``change_permission``."""

    key: str
    name: Promise
    url_name: str
    permission: str
    change_permission: str

    def entry(self, request) -> dict | None:
        if not request.user.has_perm(self.permission):
            return None
        return {
            "name": self.name,
            "object_name": self.key,
            "admin_url": reverse(self.url_name),
            "add_url": None,
            "view_only": not request.user.has_perm(self.change_permission),
        }


#: The company's Word template and logo of the memoir export
#: (projects/memoir/word_template_admin.py).
WORD_TEMPLATE = Page(
    "wordtemplate",
    _("Memoir Word template"),
    "admin:memoir_word_template",
    "tenants.view_company",
    "tenants.change_company",
)

#: The menus, by what people do: (name, models (or pages) in order, technical models
#: after a separator). Models not listed go to the last menu.
MENUS = (
    (
        "tenders",
        _("Tender projects"),
        ("projects.project", "projects.rcanalysis", "projects.generationrequest"),
        (
            "projects.section",
            "projects.contentmatch",
            "projects.projectdocument",
            "projects.sectionversion",
            "projects.memoirexport",
        ),
    ),
    (
        "library",
        _("Library"),
        ("library.contentblock", "library.pastproject", "library.sectiontemplate"),
        ("library.blockfile", "library.storedfile"),
    ),
    ("memoirs", _("Memoirs"), ("rag.memoire",), ("rag.documentchunk",)),
    (
        "company",
        _("Company"),
        ("tenants.company", "tenants.user", WORD_TEMPLATE),
        ("auth.group",),
    ),
    ("journal", _("Journal"), ("audit.auditlog",), ("jobs.job",)),
)


class EnpycoAdminSite(admin.AdminSite):
    site_header = _("Enpyco — technical memoirs")
    site_title = _("Enpyco")
    index_title = _("Dashboard")
    index_template = "admin/enpyco_index.html"
    login_form = ThrottledAuthenticationForm

    def get_app_list(self, request, app_label=None):
        """The menus grouped by what people do (``MENUS``); an application's own
        page (``app_label``) keeps Django's list of that application."""
        if app_label is not None:
            return super().get_app_list(request, app_label)
        models = {}
        for app in self._build_app_dict(request).values():
            for model in app["models"]:
                models[model["model"]._meta.label_lower] = model
        menus = []
        for key, name, main, technical in MENUS:
            entries = []
            for label in main:
                if isinstance(label, Page):
                    entry = label.entry(request)
                    if entry is not None:
                        entries.append(entry)
                elif label in models:
                    entries.append(models.pop(label))
            extra = [models.pop(label) for label in technical if label in models]
            for model in extra:
                model["technical"] = True
            if entries or extra:
                menus.append({"key": key, "name": name, "models": entries + extra})
        if models and menus:
            leftovers = sorted(models.values(), key=lambda m: str(m["name"]))
            for model in leftovers:
                model["technical"] = True
            menus[-1]["models"].extend(leftovers)
        for menu in menus:
            first = menu["models"][0]
            menu.update(
                app_label=menu["key"],
                app_url=first["admin_url"] or "",
                has_module_perms=True,
            )
        return menus

    def get_urls(self):
        from projects.memoir.word_template_admin import WordTemplatePages

        return [*WordTemplatePages(self).urls(), *super().get_urls()]

    def index(self, request, extra_context=None):
        from config import dashboard

        return super().index(request, {**dashboard.context(request), **(extra_context or {})})

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
