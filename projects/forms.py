"""Forms of the project admin: the RC and the other consultation documents uploaded on a
project, a document added on its own, an RC analysis started by hand."""

from __future__ import annotations

import io

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from config import labels
from config.filetypes import DOCX, PDF, TXT, XLSX
from library.uploads import check_upload
from projects.models import DocumentKind, Project, ProjectDocument, RCAnalysis, Section
from projects.rc.document import RC_KINDS, SCANNED_LETTERS_PER_PAGE

#: What may be attached beside the RC (the CCTP is often a spreadsheet-free PDF, the DPGF
#: an XLSX).
OTHER_KINDS = (PDF, DOCX, TXT, XLSX)
#: Pages read at upload to tell a scanned PDF (the job reads them all).
SCAN_CHECK_PAGES = 3


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented way)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def check_rc(upload):
    """The upload check for an RC, plus a refusal of a PDF without text (a scan)."""
    checked = check_upload(
        upload,
        kinds=RC_KINDS,
        max_bytes=settings.RC_MAX_UPLOAD_BYTES,
        refusal=_("The RC must be a PDF, DOCX or text file; this file is not one of them."),
    )
    if checked.kind == PDF and not _has_text(upload):
        raise ValidationError(
            _(
                "This PDF has no text layer (a scanned document?): its criteria cannot be "
                "read, as the application does no OCR. Attach it as another document and "
                "enter the criteria by hand, or upload a PDF with text, a DOCX or a TXT."
            ),
            code="scanned",
        )
    upload.seek(0)
    return checked


def _has_text(upload) -> bool:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    upload.seek(0)
    try:
        reader = PdfReader(io.BytesIO(upload.read()))
        if reader.is_encrypted:
            reader.decrypt("")
        pages = reader.pages[:SCAN_CHECK_PAGES]
        letters = sum(sum(c.isalpha() for c in (p.extract_text() or "")) for p in pages)
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError):
        return True  # unreadable: the job says so with the reason
    finally:
        upload.seek(0)
    return letters >= SCANNED_LETTERS_PER_PAGE * max(1, len(pages))


def check_other(upload):
    return check_upload(
        upload,
        kinds=OTHER_KINDS,
        max_bytes=settings.RC_MAX_UPLOAD_BYTES,
        refusal=_(
            "A consultation document must be a PDF, DOCX, XLSX or text file; this file is not "
            "one of them."
        ),
    )


def _as_form_error(exc: ValidationError) -> forms.ValidationError:
    return forms.ValidationError(exc.messages[0], code=exc.code)


class ProjectForm(forms.ModelForm):
    rc_document = forms.FileField(
        label=_("RC (règlement de consultation)"),
        required=False,
        help_text=_(
            "PDF, DOCX or TXT. Uploading it starts the analysis of its award criteria and "
            "key facts; the page shows its progress."
        ),
    )
    other_documents = MultipleFileField(
        label=_("other consultation documents"),
        required=False,
        help_text=_("The notice, CCTP, CCAP… (PDF, DOCX, XLSX or TXT), several at once."),
    )
    other_kind = forms.ChoiceField(
        label=_("kind of the other documents"),
        choices=[c for c in DocumentKind.choices if c[0] != DocumentKind.RC],
        initial=DocumentKind.OTHER,
        required=False,
    )

    class Meta:
        model = Project
        fields = (
            "company",
            "name",
            "client",
            "location",
            "lot",
            "project_type",
            "size",
            "deadline",
            "rc_context",
            "final_document_url",
            "metadata",
            "created_by",
        )

    def clean_rc_document(self):
        upload = self.cleaned_data.get("rc_document")
        if upload:
            try:
                self.checked_rc = check_rc(upload)
            except ValidationError as exc:
                raise _as_form_error(exc) from None
        return upload

    def clean_other_documents(self):
        uploads = self.cleaned_data.get("other_documents") or []
        self.checked_others = []
        for upload in uploads:
            try:
                self.checked_others.append((upload, check_other(upload)))
            except ValidationError as exc:
                raise forms.ValidationError(
                    _("%(file)s: %(error)s") % {"file": upload.name, "error": exc.messages[0]},
                    code=exc.code,
                ) from None
        return uploads


class ProjectDocumentForm(forms.ModelForm):
    """A document added on its own (the upload is required when adding)."""

    upload = forms.FileField(
        label=_("file"),
        required=False,
        help_text=_("PDF, DOCX, XLSX or TXT (an RC: PDF, DOCX or TXT)."),
    )

    class Meta:
        model = ProjectDocument
        fields = ("project", "kind")

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("upload")
        if self.instance._state.adding and not upload and "upload" not in self.errors:
            self.add_error("upload", _("Choose the file."))
        if upload:
            try:
                self.checked = (
                    check_rc(upload)
                    if cleaned.get("kind") == DocumentKind.RC
                    else check_other(upload)
                )
            except ValidationError as exc:
                self.add_error("upload", _as_form_error(exc))
                return cleaned
            project = cleaned.get("project")
            if (
                project
                and ProjectDocument.objects.filter(
                    project=project, sha256=self.checked.sha256
                ).exists()
            ):
                self.add_error("upload", _("This file is already attached to the project."))
        return cleaned


class RCAnalysisReviewForm(forms.ModelForm):
    """The change form of an analysis: its project, and the review forms
    (``projects.rc.review.ReviewForms``) it validates with itself."""

    class Meta:
        model = RCAnalysis
        fields = ("project",)

    def __init__(self, *args, **kwargs):
        from projects.rc import review, storage

        super().__init__(*args, **kwargs)
        self.review = None
        if self.instance.pk:
            self.analysis = storage.from_row(self.instance)
            self.review = review.ReviewForms(
                self.analysis, data=self.data if self.is_bound else None
            )

    def clean(self):
        cleaned = super().clean()
        if self.review is not None and not self.review.is_valid():
            raise forms.ValidationError(
                _("Some rows of the analysis are not valid: see the errors below."), code="rows"
            )
        return cleaned


class RCAnalysisAddForm(forms.ModelForm):
    """An analysis entered by hand (an RC on paper, a scan): the project only; the
    review page that follows takes the criteria and facts."""

    class Meta:
        model = RCAnalysis
        fields = ("project",)


class SectionForm(forms.ModelForm):
    """A section's type chosen by its label ("Moyens humains"), not typed as its code
    ("moyens_humains"); a code from the RC analysis ("C1.2") stays selectable as is."""

    class Meta:
        model = Section
        fields = ("project", "section_type", "title", "content", "order_num", "quality_score")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("section_type")
        if field is None:
            return
        choices = [(code, str(name)) for code, name in labels.SECTION_TYPES.items()]
        current = self.instance.section_type
        if current and current not in labels.SECTION_TYPES:
            choices.insert(0, (current, labels.label("section_type", current)))
        self.fields["section_type"] = forms.ChoiceField(
            choices=[("", "---------"), *choices],
            label=field.label,
            required=field.required,
            help_text=field.help_text,
        )
