from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from library.files import check_library_upload
from library.models import ContentBlock, StoredFile
from library.services import StaleBlock, lock_block_version


class ContentBlockForm(forms.ModelForm):
    """Refuses to overwrite a version saved by someone else since the form was opened."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = ContentBlock
        fields = ("company", "type", "title", "content", "metadata", "tags", "is_active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding:
            self.fields["expected_version"].initial = self.instance.version

    def clean(self):
        cleaned = super().clean()
        if not self.instance._state.adding:
            try:
                lock_block_version(
                    self.instance.company_id, self.instance.pk, cleaned.get("expected_version")
                )
            except StaleBlock as stale:
                when = (
                    formats.date_format(timezone.localtime(stale.changed_at), "DATETIME_FORMAT")
                    if stale.changed_at
                    else ""
                )
                raise forms.ValidationError(
                    _(
                        "This block was changed by %(who)s (%(when)s) after you opened it: it is "
                        "now at version %(version)d. Your changes were not saved; reload the "
                        "page to see theirs."
                    )
                    % {
                        "who": stale.changed_by or _("another user"),
                        "when": when,
                        "version": stale.current_version,
                    },
                    code="stale",
                ) from None
        return cleaned


class StoredFileForm(forms.ModelForm):
    """Upload of a library file: checked on its content, size-limited."""

    upload = forms.FileField(
        label=gettext_lazy("file"),
        required=False,
        help_text=gettext_lazy("PDF, DOCX, XLSX or an image (PNG, JPEG, GIF, WebP)."),
    )

    class Meta:
        model = StoredFile
        fields = ("company", "metadata")

    def clean_upload(self):
        upload = self.cleaned_data.get("upload")
        if upload:
            try:
                self.checked_upload = check_library_upload(upload)
            except ValidationError as exc:
                raise forms.ValidationError(exc.messages[0], code=exc.code) from None
        elif self.instance._state.adding:
            raise forms.ValidationError(_("Choose a file."), code="required")
        return upload
