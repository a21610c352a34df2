"""The admin's "Memoir Word template" page: the company's Word template and logo that the
memoir export uses (``projects.memoir.word_template``).

``word-template/`` opens the member's own company (a platform superuser chooses one);
``word-template/<company>/`` shows what is in place (name, size, date), downloads it,
and lets the company's admins (the ``tenants.change_company`` permission: role admin, a
platform superuser) upload, replace or remove each; every other member reads it. The
company is read through the company admin (``get_object``, scoped like every admin page):
another company's id answers as a missing one (404). The pages are added to the site's
URLs by ``config.admin_site`` and listed in its "Company" menu.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.filetypes import DOCX, JPEG, PNG
from projects.memoir import word_template
from tenants.admin_base import is_platform_admin
from tenants.admin_base.downloads import serve_stored
from tenants.models import Company

#: Companies a platform superuser's chooser lists at once.
CHOOSER_LIMIT = 50
TITLE = gettext_lazy("Memoir Word template")


def _form_error(exc: ValidationError) -> forms.ValidationError:
    return forms.ValidationError(exc.messages[0], code=exc.code)


class TemplateForm(forms.Form):
    template = forms.FileField(
        label=gettext_lazy("Word template (.docx)"),
        widget=forms.FileInput(attrs={"accept": ".docx," + DOCX.mime_type}),
    )

    def clean_template(self):
        upload = self.cleaned_data["template"]
        try:
            self.checked = word_template.check_template(upload)
        except ValidationError as exc:
            raise _form_error(exc) from None
        return upload


class LogoForm(forms.Form):
    logo = forms.FileField(
        label=gettext_lazy("Logo (PNG or JPEG)"),
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg"}),
    )

    def clean_logo(self):
        upload = self.cleaned_data["logo"]
        try:
            self.checked = word_template.check_logo(upload)
        except ValidationError as exc:
            raise _form_error(exc) from None
        return upload


class WordTemplatePages:
    """The page's views, on the project's admin site."""

    def __init__(self, site):
        self.site = site

    def urls(self) -> list:
        view = self.site.admin_view
        return [
            path("word-template/", view(self.index_view), name="memoir_word_template"),
            path(
                "word-template/<uuid:company_id>/",
                view(self.page_view),
                name="memoir_word_template_company",
            ),
            path(
                "word-template/<uuid:company_id>/template/",
                view(self.template_download),
                name="memoir_word_template_download",
            ),
            path(
                "word-template/<uuid:company_id>/logo/",
                view(self.logo_download),
                name="memoir_word_template_logo",
            ),
            path(
                "word-template/<uuid:company_id>/starter/",
                view(self.starter_download),
                name="memoir_word_template_starter",
            ),
        ]

    # --- the company and what the member may do --------------------------------------------

    @property
    def company_admin(self):
        return self.site.get_model_admin(Company)

    def _company(self, request, company_id) -> Company:
        """The company of the page, read as its admin page reads it: another company's
        id is not found, like an id that does not exist."""
        company = self.company_admin.get_object(request, str(company_id))
        if company is None or not self.company_admin.has_view_permission(request, company):
            raise Http404
        return company

    def _can_change(self, request, company) -> bool:
        return self.company_admin.has_change_permission(request, company)

    def _context(self, request, **values) -> dict:
        return {**self.site.each_context(request), "title": TITLE, **values}

    # --- pages -----------------------------------------------------------------------------

    def index_view(self, request):
        """A member's own company; the list of companies for a platform superuser."""
        if not is_platform_admin(request.user):
            if not request.user.company_id:
                raise Http404
            return HttpResponseRedirect(
                reverse("admin:memoir_word_template_company", args=[request.user.company_id])
            )
        search = request.GET.get("q", "").strip()[:200]
        companies = self.company_admin.get_queryset(request).order_by("name")
        if search:
            companies = companies.filter(name__icontains=search)
        rows = list(companies.only("pk", "name")[: CHOOSER_LIMIT + 1])
        context = self._context(
            request,
            companies=[
                {
                    "name": c.name,
                    "url": reverse("admin:memoir_word_template_company", args=[c.pk]),
                }
                for c in rows[:CHOOSER_LIMIT]
            ],
            truncated=len(rows) > CHOOSER_LIMIT,
            limit=CHOOSER_LIMIT,
            search=search,
        )
        request.current_app = self.site.name
        return TemplateResponse(request, "admin/projects/word_template_chooser.html", context)

    def page_view(self, request, company_id):
        company = self._company(request, company_id)
        template_form, logo_form = TemplateForm(), LogoForm()
        if request.method == "POST":
            if not self._can_change(request, company):
                raise PermissionDenied
            action = request.POST.get("action", "")
            if action == "upload_template":
                template_form = TemplateForm(request.POST, request.FILES)
                done = self._upload(request, company, template_form, "template")
            elif action == "upload_logo":
                logo_form = LogoForm(request.POST, request.FILES)
                done = self._upload(request, company, logo_form, "logo")
            elif action in ("remove_template", "remove_logo"):
                done = self._remove(request, company, action)
            else:
                messages.error(request, _("Unknown action."))
                done = True
            if done:
                return HttpResponseRedirect(request.path)
        elif request.method != "GET":
            return HttpResponseNotAllowed(["GET", "POST"])
        return self._render(request, company, template_form, logo_form)

    def _upload(self, request, company, form, what: str) -> bool:
        if not form.is_valid():
            return False
        store = word_template.set_template if what == "template" else word_template.set_logo
        upload = form.cleaned_data[what]
        try:
            in_place = store(company, upload, checked=form.checked, request=request)
        except OSError:
            form.add_error(what, _("The file could not be stored; nothing was changed."))
            return False
        name = in_place.name if in_place else form.checked.name
        if what == "template":
            messages.success(
                request,
                _("The Word template “%(name)s” is in place: the next exports use it.")
                % {"name": name},
            )
        else:
            messages.success(
                request,
                _("The logo “%(name)s” is in place: the next exports show it on their cover.")
                % {"name": name},
            )
        return True

    def _remove(self, request, company, action: str) -> bool:
        if action == "remove_template":
            removed = word_template.remove_template(company, request=request)
            done = _("The Word template was removed: the exports use Word’s default styles again.")
        else:
            removed = word_template.remove_logo(company, request=request)
            done = _("The logo was removed: the cover of the exports goes without one.")
        if removed:
            messages.success(request, done)
        else:
            messages.info(request, _("There was nothing to remove."))
        return True

    @staticmethod
    def _missing_message(missing: list[str]) -> str:
        return _(
            "The template lacks these styles, which the export then goes without: "
            "%(styles)s. Use each of them once in Word (or start from the starter "
            "template) so that Word keeps it in the document."
        ) % {"styles": word_template.style_labels(missing)}

    def _render(self, request, company, template_form, logo_form):
        state = word_template.current(company)
        urls = {
            "page": reverse("admin:memoir_word_template_company", args=[company.pk]),
            "template": reverse("admin:memoir_word_template_download", args=[company.pk]),
            "logo": reverse("admin:memoir_word_template_logo", args=[company.pk]),
            "starter": reverse("admin:memoir_word_template_starter", args=[company.pk]),
            "company": reverse("admin:tenants_company_change", args=[company.pk]),
            "chooser": reverse("admin:memoir_word_template")
            if is_platform_admin(request.user)
            else None,
        }
        context = self._context(
            request,
            subtitle=company.name,
            company=company,
            state=state,
            missing_message=self._missing_message(state.missing_styles)
            if state.missing_styles
            else "",
            export_styles=word_template.style_labels(word_template.EXPORT_STYLES),
            can_change=self._can_change(request, company),
            template_form=template_form,
            logo_form=logo_form,
            urls=urls,
            template_max=filesizeformat(settings.WORD_TEMPLATE_MAX_BYTES),
            logo_max=filesizeformat(settings.COMPANY_LOGO_MAX_BYTES),
            logo_box=(
                f"{word_template.LOGO_MAX_WIDTH_CM:g}",
                f"{word_template.LOGO_MAX_HEIGHT_CM:g}",
            ),
        )
        request.current_app = self.site.name
        return TemplateResponse(request, "admin/projects/word_template.html", context)

    # --- files -----------------------------------------------------------------------------

    @staticmethod
    def _serve(path: str | None, *, inline=()) -> FileResponse:
        return serve_stored(path, (path or "").rsplit("/", 1)[-1], inline=inline)

    def template_download(self, request, company_id):
        company = self._company(request, company_id)
        return self._serve(word_template.template_path(company))

    def logo_download(self, request, company_id):
        company = self._company(request, company_id)
        return self._serve(word_template.logo_path(company), inline=(PNG, JPEG))

    def starter_download(self, request, company_id):
        company = self._company(request, company_id)
        response = HttpResponse(word_template.starter(company), content_type=DOCX.mime_type)
        name = f"modele-memoire-{slugify(company.name)[:60] or 'entreprise'}.docx"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["X-Content-Type-Options"] = "nosniff"
        return response
