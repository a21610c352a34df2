"""The admin forms of a content block's facts, built from ``library.facts``.

One form per block type, its fields labelled in French (through the catalog) and
reading what users write (``library.parsing``); lists of records (a CV's
qualifications, an equipment item's inspections, a methodology's phases) are rows of a
formset inside the block form, each row with its own dates. ``BlockFactsEditor`` holds
the forms of every type (the page shows the one of the chosen type) and the "other
facts" rows (keys users added that no type describes), and turns a POST into the
block's metadata: nobody types JSON.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from library import facts, parsing
from library.choices import BlockType
from library.widgets import KeyValueField, display_value, is_scalar

# --- fields reading French input --------------------------------------------------------


class _ParsedField(forms.CharField):
    """A text input whose value is read by a ``library.parsing`` function."""

    def __init__(self, *, minimum=None, maximum=None, **kwargs):
        self.minimum, self.maximum = minimum, maximum
        kwargs.setdefault("max_length", 100)
        super().__init__(**kwargs)

    def parse(self, value):
        raise NotImplementedError

    def to_python(self, value):
        if value in self.empty_values or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, str) and "\x00" in value:
            raise forms.ValidationError(_("Null characters are not allowed."), code="null")
        try:
            return self.parse(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from None

    def validate(self, value):
        if value is None and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")

    def run_validators(self, value):
        if value is None:
            return
        if self.minimum is not None and value < self.minimum:
            raise forms.ValidationError(
                _("Enter at least %(min)s.") % {"min": parsing.format_decimal(self.minimum)},
                code="min_value",
            )
        if self.maximum is not None and value > self.maximum:
            raise forms.ValidationError(
                _("Enter at most %(max)s.") % {"max": parsing.format_decimal(self.maximum)},
                code="max_value",
            )

    def clean(self, value):
        if not isinstance(value, str):  # metadata written by code: ints, dates…
            value = self.to_python(value) if value not in self.empty_values else None
            self.validate(value)
            self.run_validators(value)
            return value
        return super().clean(value)


class FrenchDateField(_ParsedField):
    """31/03/2027, 31 mars 2027, 1er avril 2026 or 2027-03-31."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"placeholder": gettext_lazy("e.g. 31/03/2027"), "size": 16}),
        )
        super().__init__(**kwargs)

    def parse(self, value):
        return parsing.parse_date(value)

    def prepare_value(self, value):
        if hasattr(value, "strftime"):
            return value.strftime("%d/%m/%Y")
        return value


class FrenchNumberField(_ParsedField):
    """4 200 000,50 (spaces of any kind, a decimal comma); stored as a JSON number."""

    whole = False

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"size": 14, "inputmode": "decimal"}))
        super().__init__(**kwargs)

    def parse(self, value):
        number = parsing.parse_decimal(value)
        if self.whole:
            if number != number.to_integral_value():
                raise ValueError(_("Enter a whole number."))
            return int(number)
        return parsing.json_number(number)

    def prepare_value(self, value):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return parsing.format_decimal(value).replace("\u00a0", " ")
        return value


class FrenchIntegerField(FrenchNumberField):
    whole = True


class SiretField(_ParsedField):
    def parse(self, value):
        return parsing.parse_siret(value)

    def prepare_value(self, value):
        return parsing.format_siret(value) if isinstance(value, str) else value


class TextListField(forms.CharField):
    """One item per line (or separated by semicolons), stored as a list of texts."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 60})
    pattern: re.Pattern | None = None

    def __init__(self, **kwargs):
        kwargs.pop("max_length", None)
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, list | tuple):
            items = [str(v) for v in value]
        else:
            items = re.split(r"[;\n]", str(value or ""))
        items = [re.sub(r"\s+", " ", item).strip() for item in items]
        return list(dict.fromkeys(item for item in items if item))

    def validate(self, value):
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        if any("\x00" in item for item in value):
            raise forms.ValidationError(_("Null characters are not allowed."), code="null")
        if self.pattern:
            wrong = [item for item in value if not self.pattern.fullmatch(item)]
            if wrong:
                raise forms.ValidationError(
                    _("Not a placeholder name (letters, digits and _ only): %(names)s.")
                    % {"names": ", ".join(wrong)},
                    code="invalid",
                )

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value


class IdentifierListField(TextListField):
    pattern = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def formfield(spec: facts.Spec) -> forms.Field:
    """The form field of a fact."""
    common = {"label": capfirst(spec.label), "required": spec.required, "help_text": spec.help_text}
    bounds = {"minimum": spec.minimum, "maximum": spec.maximum}
    if spec.kind == "text":
        return forms.CharField(max_length=500, **common)
    if spec.kind == "longtext":
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), **common)
    if spec.kind == "choice":
        choices = [("", "---------"), *spec.choices.choices]
        return forms.ChoiceField(choices=choices, **common)
    if spec.kind == "siret":
        return SiretField(**common)
    if spec.kind == "int":
        return FrenchIntegerField(**common, **bounds)
    if spec.kind == "number":
        return FrenchNumberField(**common, **bounds)
    if spec.kind == "date":
        return FrenchDateField(**common)
    if spec.kind == "bool":
        return forms.BooleanField(**{**common, "required": False}, initial=bool(spec.default))
    if spec.kind == "texts":
        return TextListField(**common)
    if spec.kind == "identifiers":
        return IdentifierListField(**common)
    raise AssertionError(spec.kind)


# --- one form per facts dataclass ------------------------------------------------------


class FactsForm(forms.Form):
    """The scalar facts of one dataclass (rows are formsets beside it)."""

    facts_class: type = object
    required_css_class = "required"  # bold labels, as the admin's own fields

    def facts_values(self) -> dict[str, Any]:
        """The cleaned values of the dataclass's scalar facts."""
        return {
            key: self.cleaned_data.get(key)
            for key, spec in facts.specs(self.facts_class)
            if spec.kind != "rows"
        }

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            for key, message in problems(self.facts_class(**self.facts_values())):
                self.add_error(key, message)
        return cleaned


class RowForm(FactsForm):
    """One row of a rows formset. A row whose every field is blank is no row (the
    blank row offered for a new one, or a row the user emptied): its required facts
    are checked only when something is written in it."""

    required_keys: tuple[str, ...] = ()

    def clean(self):
        cleaned = forms.Form.clean(self)
        values = self.facts_values()
        spec_of = dict(facts.specs(self.facts_class))
        self.is_blank = all(
            value in (None, "", []) for key, value in values.items() if spec_of[key].kind != "bool"
        )
        if self.is_blank or self.errors:
            return cleaned
        for key in self.required_keys:
            if values.get(key) in (None, "", []):
                self.add_error(key, forms.ValidationError(_("This field is required."), "required"))
        if not self.errors:
            for key, message in problems(self.facts_class(**values)):
                self.add_error(key, message)
        return cleaned


def problems(obj) -> list[tuple[str | None, str]]:
    """Checks across the facts of one object (a row or a block's facts)."""
    found = []
    if isinstance(obj, facts.Qualification):
        if obj.obtained_on and obj.expires_on and obj.expires_on < obj.obtained_on:
            found.append(("expires_on", _("The expiry date is before the date obtained.")))
        if obj.kind == facts.QualificationKind.OTHER and not obj.label:
            found.append(("label", _("Name the qualification.")))
    elif isinstance(obj, facts.Inspection):
        if obj.last_on and obj.next_on and obj.next_on < obj.last_on:
            found.append(("next_on", _("The next inspection is before the last one.")))
        if obj.kind == facts.InspectionKind.OTHER and not obj.label:
            found.append(("label", _("Name the inspection.")))
    elif (
        isinstance(obj, facts.Certification)
        and obj.issued_on
        and obj.valid_until
        and obj.valid_until < obj.issued_on
    ):
        found.append(("valid_until", _("The end of validity is before the date of issue.")))
    return found


@cache
def form_class(cls: type, base: type = FactsForm) -> type[FactsForm]:
    scalar = [(key, spec) for key, spec in facts.specs(cls) if spec.kind != "rows"]
    fields = {key: formfield(spec) for key, spec in scalar}
    attrs = {**fields, "facts_class": cls}
    if issubclass(base, RowForm):  # see RowForm: required only in a row not blank
        for field in fields.values():
            field.required = False
        attrs["required_keys"] = tuple(key for key, spec in scalar if spec.required)
    return type(f"{cls.__name__}Form", (base,), attrs)


class RowsFormSet(forms.BaseFormSet):
    """Rows of records; a row left blank is ignored, a row ticked "delete" removed."""

    def rows(self) -> list:
        out = []
        for form in self.forms:
            if self._should_delete_form(form) or getattr(form, "is_blank", True):
                continue
            out.append(form.facts_class(**form.facts_values()))
        return out


@cache
def rows_formset_class(row_cls: type) -> type[RowsFormSet]:
    return forms.formset_factory(
        form_class(row_cls, RowForm), formset=RowsFormSet, extra=1, can_delete=True
    )


def _initial(cls, obj) -> dict[str, Any]:
    return {key: getattr(obj, key) for key, spec in facts.specs(cls) if spec.kind != "rows"}


class TypeFacts:
    """The form of one block type and the formsets of its rows."""

    def __init__(self, block_type: str, *, data=None, metadata: dict):
        self.block_type = block_type
        self.label = BlockType(block_type).label
        cls = facts.facts_class(block_type)
        current = facts.read(block_type, metadata)
        self.form = form_class(cls)(data=data, prefix=block_type, initial=_initial(cls, current))
        self.current = current
        self.rowsets = []
        for key, spec in facts.specs(cls):
            if spec.kind == "rows":
                prefix = f"{block_type}-{key}"
                # A POST without the rows' management form (not a browser: a script)
                # leaves the rows as they are.
                omitted = data is not None and f"{prefix}-TOTAL_FORMS" not in data
                formset = rows_formset_class(spec.row)(
                    data=None if omitted else data,
                    prefix=prefix,
                    initial=[_initial(spec.row, row) for row in getattr(current, key)],
                )
                formset.omitted = omitted
                formset.key, formset.label, formset.row_class = key, spec.label, spec.row
                formset.headers = [(s.label, s.help_text) for _k, s in facts.specs(spec.row)]
                self.rowsets.append(formset)

    def is_valid(self) -> bool:
        valid = self.form.is_valid()
        return all(
            [valid, *(formset.is_valid() for formset in self.rowsets if not formset.omitted)]
        )

    def value(self):
        """The facts dataclass of the valid forms."""
        cls = self.form.facts_class
        values = self.form.facts_values()
        for formset in self.rowsets:
            values[formset.key] = (
                getattr(self.current, formset.key) if formset.omitted else formset.rows()
            )
        return cls(**values)


# --- the keys no type describes ---------------------------------------------------------


class OtherFactsForm(forms.Form):
    facts = KeyValueField(
        label=gettext_lazy("other facts"),
        help_text=gettext_lazy("Facts of your own that the form above does not ask for."),
    )


class BlockFactsEditor:
    """The facts of a block being edited: the form of every type (the page shows the
    chosen type's) and the rows of its other facts."""

    def __init__(self, *, data=None, metadata: dict | None, block_type: str | None):
        self.metadata = dict(metadata) if isinstance(metadata, dict) else {}
        self.block_type = block_type
        self.types = [
            TypeFacts(value, data=data, metadata=self.metadata) for value in BlockType.values
        ]
        known = facts.known_keys(block_type) if block_type else set()
        self.unknown = {k: v for k, v in self.metadata.items() if k not in known}
        self.other = OtherFactsForm(data=data, prefix="other", initial={"facts": self.unknown})
        self.other.fields["facts"].previous = self.unknown
        # A POST without the other facts' rows (a script) leaves them as they are.
        self.other_omitted = data is not None and "other-facts-key" not in data

    def for_type(self, block_type: str) -> TypeFacts:
        return next(t for t in self.types if t.block_type == block_type)

    def kept_display(self) -> list[tuple[str, str]]:
        return self.other.fields["facts"].kept()

    def clean(self, block_type: str) -> dict | None:
        """The block's new metadata from the POST, or None (errors are on the forms)."""
        typed = self.for_type(block_type)
        known = facts.known_keys(block_type)
        self.other.fields["facts"].reserved = known
        valid = typed.is_valid()
        other_valid = self.other_omitted or self.other.is_valid()
        if not (other_valid and valid):
            return None
        # The facts of the block's former type, when its type changes, stay (unless the
        # new type describes them too).
        former = facts.known_keys(self.block_type) if self.block_type else set()
        metadata = {
            key: value for key, value in self.metadata.items() if key in former and key not in known
        }
        if self.other_omitted:
            metadata.update({k: v for k, v in self.unknown.items() if k not in known})
        else:
            metadata.update(self.other.cleaned_data["facts"])
        metadata.update(facts.to_dict(typed.value()))
        return metadata


# --- read-only --------------------------------------------------------------------------


def display(spec: facts.Spec, value) -> str:
    """A fact as a reader sees it."""
    if value in (None, "", []):
        return "—"
    if spec.kind == "date":
        return value.strftime("%d/%m/%Y")
    if spec.kind == "choice":
        return str(dict(spec.choices.choices).get(value, value))
    if spec.kind == "bool":
        return _("yes") if value else _("no")
    if spec.kind in ("int", "number"):
        return parsing.format_decimal(value)
    if spec.kind == "siret":
        return parsing.format_siret(value)
    if spec.kind in ("texts", "identifiers"):
        return "\n".join(value)
    return str(value)


def display_facts(block_type: str, metadata: dict | None) -> dict:
    """The facts of a block as text, for those who may only read it: ``{label,
    values: [(label, text)], tables: [{label, headers, rows}], other: [(key, text)]}``."""
    metadata = metadata if isinstance(metadata, dict) else {}
    cls = facts.facts_class(block_type)
    obj = facts.read(block_type, metadata)
    values, tables = [], []
    for key, spec in facts.specs(cls):
        value = getattr(obj, key)
        if spec.kind == "rows":
            row_specs = facts.specs(spec.row)
            tables.append(
                {
                    "label": spec.label,
                    "headers": [s.label for _k, s in row_specs],
                    "rows": [[display(s, getattr(row, k)) for k, s in row_specs] for row in value],
                }
            )
        else:
            values.append((spec.label, display(spec, value)))
    known = facts.known_keys(block_type)
    other = [
        (key, display_value(value) if is_scalar(value) else json.dumps(value, ensure_ascii=False))
        for key, value in metadata.items()
        if key not in known
    ]
    return {
        "label": BlockType(block_type).label,
        "values": values,
        "tables": tables,
        "other": other,
    }
