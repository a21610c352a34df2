from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from config.filetypes import MEMOIR_KINDS
from library.uploads import check_upload
from rag.models import Memoire


class MemoireForm(forms.ModelForm):
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
        return cleaned


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
