"""PostgreSQL enum types as Django fields.

The schema contract names five ``CREATE TYPE … AS ENUM`` types that other programs read.
A model field declares the type it uses and its Python choices; the migration that
creates the type takes its values from the same choices, and ``check_enum_types``
compares them with what the database holds, so the two cannot drift apart silently.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.migrations.operations.base import Operation


class EnumField(models.CharField):
    """A CharField stored in a PostgreSQL enum type named ``enum_type``."""

    def __init__(self, *args, enum_type: str, **kwargs):
        self.enum_type = enum_type
        choices = kwargs.get("choices")
        if choices and "max_length" not in kwargs:
            kwargs["max_length"] = max(len(str(value)) for value, _ in choices)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["enum_type"] = self.enum_type
        kwargs.pop("max_length", None)
        return name, path, args, kwargs

    def get_prep_value(self, value):
        # A value outside the type is refused before PostgreSQL sees it (it would answer
        # with an error that fails the whole request: a filter ``?status__exact=bogus``).
        value = super().get_prep_value(value)
        if value is not None and self.choices and value not in self._values():
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return value

    def _values(self) -> frozenset:
        return frozenset(str(choice) for choice, _label in self.flatchoices)

    def db_type(self, connection):
        return self.enum_type

    def rel_db_type(self, connection):
        return self.enum_type

    def cast_db_type(self, connection):
        return self.enum_type


class CreateEnumType(Operation):
    """``CREATE TYPE name AS ENUM (values…)``; reversible (drops the type)."""

    reversible = True

    def __init__(self, name: str, values: list[str]):
        self.name = name
        self.values = list(values)

    def deconstruct(self):
        return self.__class__.__qualname__, [self.name, self.values], {}

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        labels = ", ".join(schema_editor.quote_value(v) for v in self.values)
        schema_editor.execute(
            f"CREATE TYPE {schema_editor.quote_name(self.name)} AS ENUM ({labels})"
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        schema_editor.execute(f"DROP TYPE {schema_editor.quote_name(self.name)}")

    def describe(self):
        return f"Create enum type {self.name}"

    @property
    def migration_name_fragment(self):
        return f"create_enum_{self.name}"


def database_enum_values(connection, enum_type: str) -> list[str] | None:
    """Values of ``enum_type`` in the database, in order, or None if it does not exist."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT e.enumlabel FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid "
            "WHERE t.typname = %s ORDER BY e.enumsortorder",
            [enum_type],
        )
        rows = cursor.fetchall()
    if not rows:
        return None
    return [r[0] for r in rows]
