"""Reading a JSON answer out of a model's text and checking it against a JSON schema."""

from __future__ import annotations

import json
import re
from typing import Any

from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator

_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


class InvalidJSON(ValueError):
    """The answer is not JSON matching the schema; the message says what is wrong (it is
    shown to the model when it is asked to try again)."""


def instructions(schema: dict) -> str:
    """What the system prompt adds so that any model answers in JSON."""
    return (
        "Answer with one JSON object only, no text before or after it, no Markdown. "
        "It must validate against this JSON schema:\n"
        + json.dumps(schema, ensure_ascii=False, separators=(",", ":"))
    )


def parse(text: str) -> Any:
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1)
    try:
        return json.loads(body)
    except ValueError:
        pass
    start, end = body.find("{"), body.rfind("}")
    if start < 0 or end <= start:
        raise InvalidJSON(_("the answer holds no JSON object"))
    try:
        return json.loads(body[start : end + 1])
    except ValueError as exc:
        raise InvalidJSON(_("the answer is not valid JSON (%(error)s)") % {"error": exc}) from None


def validate(data: Any, schema: dict) -> None:
    validator = Draft202012Validator(schema)
    problems = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if problems:
        described = "; ".join(
            f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"[:200]
            for e in problems[:5]
        )
        raise InvalidJSON(described)


def check_schema(schema: dict) -> None:
    """Raise ``jsonschema.SchemaError`` for a schema that is not one (a bug of the caller)."""
    Draft202012Validator.check_schema(schema)
