from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from library.fact_forms import BlockFactsEditor, FrenchNumberField
from library.files import check_library_upload
from library.models import ContentBlock, PastProject, SectionTemplate, StoredFile
from library.services import StaleBlock, lock_block_version
from library.widgets import KeyValueField


class ContentBlockForm(forms.ModelForm):
    """A block and its typed facts (``facts``: the forms of library.fact_forms, shown
    by the change page under the block's fields); refuses to overwrite a version saved
    by someone else since the form was opened."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Media:
        js = ("library/facts.js",)
        css = {"all": ("library/facts.css",)}

    class Meta:
        model = ContentBlock
        fields = ("company", "type", "title", "content", "tags", "is_active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding:
            self.fields["expected_version"].initial = self.instance.version
        if "type" in self.fields:
            self.fields["type"].widget.attrs["data-block-type-select"] = ""
        self.facts = BlockFactsEditor(
            data=self.data if self.is_bound else None,
            metadata=self.instance.metadata,
            block_type=self.instance.type or None,
        )

    def clean(self):
        cleaned = super().clean()
        block_type = cleaned.get("type")
        if block_type:
            metadata = self.facts.clean(block_type)
            # Errors are shown on the facts' own fields, not again by the model's clean().
            self.instance.metadata_checked_by_form = True
            if metadata is None:
                self.add_error(
                    None,
                    forms.ValidationError(
                        _("Some facts of the block are not valid: see the fields marked below."),
                        code="facts",
                    ),
                )
            else:
                self.instance.metadata = metadata
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


class KeyValueModelForm(forms.ModelForm):
    """A model form whose JSON fields listed in ``key_value_fields`` are edited as rows
    of (name, value) (library.widgets.KeyValueField) instead of typed JSON."""

    key_value_fields: dict[str, dict] = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, options in self.key_value_fields.items():
            if name not in self.fields:
                continue
            model_field = self.fields[name]
            field = KeyValueField(
                label=model_field.label, help_text=model_field.help_text, **options
            )
            stored = getattr(self.instance, name, None)
            field.previous = dict(stored) if isinstance(stored, dict) else {}
            field.reserved = set(self.reserved_keys(name))
            self.fields[name] = field
            self.initial[name] = {
                k: v for k, v in field.previous.items() if k not in field.reserved
            }

    def reserved_keys(self, name: str) -> list[str]:
        return []


class StoredFileForm(KeyValueModelForm):
    """Upload of a library file: checked on its content, size-limited."""

    upload = forms.FileField(
        label=gettext_lazy("file"),
        required=False,
        help_text=gettext_lazy("PDF, DOCX, XLSX or an image (PNG, JPEG, GIF, WebP)."),
    )
    key_value_fields = {"metadata": {}}

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


class PastProjectForm(KeyValueModelForm):
    """A reference project: its amount and lot as typed fields (kept in ``metadata``,
    as reference blocks keep them), its other facts as rows."""

    amount = FrenchNumberField(
        label=gettext_lazy("amount (€ excl. VAT)"), required=False, minimum=0
    )
    lot = forms.CharField(label=gettext_lazy("lot"), max_length=255, required=False)
    key_value_fields = {"metadata": {}}
    typed_keys = ("amount", "lot")

    class Meta:
        model = PastProject
        fields = (
            "company",
            "name",
            "client",
            "year",
            "project_type",
            "description",
            "techniques_used",
            "success_factors",
            "photos",
            "is_referenceable",
            "metadata",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = self.instance.metadata if isinstance(self.instance.metadata, dict) else {}
        for key in self.typed_keys:
            if key in self.fields and stored.get(key) is not None:
                self.initial.setdefault(key, stored[key])

    def reserved_keys(self, name: str) -> list[str]:
        return list(self.typed_keys)

    def clean(self):
        cleaned = super().clean()
        if "metadata" in cleaned:
            metadata = dict(cleaned["metadata"] or {})
            for key in self.typed_keys:
                value = cleaned.get(key)
                if value in (None, ""):
                    metadata.pop(key, None)
                else:
                    metadata[key] = value
            cleaned["metadata"] = metadata
        return cleaned


class SectionTemplateForm(KeyValueModelForm):
    """A section template: its placeholders as rows (name, what to put there)."""

    key_value_fields = {
        "placeholders": {
            "key_label": gettext_lazy("placeholder"),
            "value_label": gettext_lazy("description"),
        }
    }

    class Meta:
        model = SectionTemplate
        fields = ("company", "section_type", "title", "template_content", "placeholders")

    def clean_placeholders(self):
        placeholders = self.cleaned_data.get("placeholders") or {}
        wrong = [k for k in placeholders if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k)]
        if wrong:
            raise forms.ValidationError(
                _("Not a placeholder name (letters, digits and _ only): %(names)s.")
                % {"names": ", ".join(wrong)},
                code="invalid",
            )
        return {k: "" if v is None else str(v) for k, v in placeholders.items()}
