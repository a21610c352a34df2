from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from config.filetypes import MEMOIR_KINDS
from library.uploads import check_upload
from rag.models import Memoire
from rag.services import same_file


class MemoireForm(forms.ModelForm):
    #: The company the form acts for when it has no company field (set by the admin).
    acting_company_id = None

    document = forms.FileField(
        label=_("document"),
        required=False,
        help_text=_("PDF, DOCX or TXT. Uploading a new document re-indexes the memoir."),
    )

    class Meta:
        model = Memoire
        fields = ("company", "client", "year", "project_type", "techniques_used", "metadata")

    def clean_document(self):
        upload = self.cleaned_data.get("document")
        if not upload:
            return upload
        try:
            self.checked_upload = check_upload(
                upload,
                kinds=MEMOIR_KINDS,
                max_bytes=settings.RAG_MAX_UPLOAD_BYTES,
                refusal=_(
                    "A memoir must be a PDF, DOCX or text file; this file is not one of them."
                ),
            )
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages[0], code=exc.code) from None
        return upload

    def clean(self):
        cleaned = super().clean()
        if (
            self.instance._state.adding
            and not cleaned.get("document")
            and "document" not in self.errors
        ):
            self.add_error("document", _("Choose the memoir's document."))
        if cleaned.get("document") and hasattr(self, "checked_upload"):
            self._refuse_identical_file(cleaned)
        return cleaned

    def _refuse_identical_file(self, cleaned) -> None:
        company = cleaned.get("company")
        company_id = getattr(company, "pk", None) or self.acting_company_id
        company_id = company_id or self.instance.company_id
        if company_id is None:
            return
        existing = same_file(
            company_id,
            self.checked_upload.sha256,
            exclude=None if self.instance._state.adding else self.instance.pk,
        )
        if existing is not None:
            self.add_error(
                "document",
                forms.ValidationError(
                    _(
                        "This file is identical to the memoir “%(memoire)s” uploaded on "
                        "%(date)s: it is not uploaded twice."
                    ),
                    code="duplicate",
                    params={
                        "memoire": existing,
                        "date": formats.date_format(existing.created_at, "SHORT_DATE_FORMAT")
                        if existing.created_at
                        else "—",
                    },
                ),
            )


class PassageSearchForm(forms.Form):
    query = forms.CharField(
        label=_("question"),
        max_length=500,
        widget=forms.TextInput(attrs={"size": 80, "autofocus": True}),
    )
    memoires = forms.ModelMultipleChoiceField(
        label=_("only in these memoirs"),
        queryset=Memoire.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    k = forms.IntegerField(label=_("passages"), min_value=1, max_value=50, initial=10)

    def __init__(self, *args, memoires=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["memoires"].queryset = (
            memoires if memoires is not None else Memoire.objects.none()
        )
