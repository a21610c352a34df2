"""Form fields shared by every app's forms."""

from __future__ import annotations

import json
import math

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

#: Limits of JSON accepted from a form: PostgreSQL's jsonb refuses NaN, infinities and
#: NUL characters, Python refuses integers of more than 4,300 digits, and deep nesting
#: exhausts the parser's recursion.
JSON_MAX_DEPTH = 32
JSON_MAX_INTEGER_DIGITS = 30


class _Refused(ValueError):
    pass


def _constant(name: str):
    raise _Refused(_("NaN and infinite numbers are not accepted."))


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(_("This number is too large."))
    return value


def _int(text: str) -> int:
    if len(text.lstrip("-")) > JSON_MAX_INTEGER_DIGITS:
        raise _Refused(_("This number is too large."))
    return int(text)


def _check(value, depth: int = 0) -> None:
    if depth > JSON_MAX_DEPTH:
        raise _Refused(_("The data is nested too deeply."))
    if isinstance(value, str):
        if "\x00" in value:
            raise _Refused(_("Null characters are not allowed."))
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(key, depth + 1)
            _check(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check(item, depth + 1)


def strict_json_loads(text: str):
    """``json.loads`` of what PostgreSQL's jsonb can store; ``_Refused`` otherwise.

    The depth is checked on the text first, so that deep nesting never reaches the
    recursive parser."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > JSON_MAX_DEPTH:
                raise _Refused(_("The data is nested too deeply."))
        elif char in "]}":
            depth -= 1
    value = json.loads(text, parse_constant=_constant, parse_float=_float, parse_int=_int)
    _check(value)
    return value


class StrictJSONFormField(forms.JSONField):
    """A JSON form field that refuses what the database would refuse, with a form error
    instead of an error at save time."""

    def to_python(self, value):
        if self.disabled:
            return value
        if value in self.empty_values:
            return None
        if isinstance(value, list | dict | int | float | forms.fields.JSONString):
            return value
        try:
            converted = strict_json_loads(value)
        except _Refused as refused:
            raise ValidationError(str(refused), code="invalid") from None
        except (json.JSONDecodeError, ValueError, RecursionError):
            raise ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": value}
            ) from None
        if isinstance(converted, str):
            return forms.fields.JSONString(converted)
        return converted

    def bound_data(self, data, initial):
        # Re-shown after an error: the text as it was typed when it is not valid.
        if self.disabled:
            return initial
        if data is None:
            return None
        try:
            return strict_json_loads(data)
        except (_Refused, ValueError, RecursionError):
            return forms.fields.InvalidJSONInput(data)
