from __future__ import annotations

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from library.filetypes import MEMOIR_KINDS, sniff
from rag.models import Memoire


def max_upload_bytes() -> int:
    return getattr(settings, "RAG_MAX_UPLOAD_BYTES", 50 * 1024 * 1024)


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
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."), code="empty")
        if upload.size > max_upload_bytes():
            raise forms.ValidationError(
                _("The file is too large (%(size)s; at most %(max)s).")
                % {"size": filesizeformat(upload.size), "max": filesizeformat(max_upload_bytes())},
                code="too_large",
            )
        upload.seek(0)
        data = upload.read()
        upload.seek(0)
        kind = sniff(data[:8192], data)
        if kind not in MEMOIR_KINDS:
            raise forms.ValidationError(
                _("A memoir must be a PDF, DOCX or text file; this file is not one of them."),
                code="file_type",
            )
        upload.detected_kind = kind
        return upload

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk and not cleaned.get("document") and "document" not in self.errors:
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
