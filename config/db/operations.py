"""Migration operations for adopting the legacy database."""

from __future__ import annotations

from django.db import migrations


class CreateModelFromSQL(migrations.CreateModel):
    """A CreateModel whose table is created by verbatim SQL.

    The legacy tables must exist exactly as ``legacy_schema.sql`` wrote them (column
    types, nullability, defaults, constraint and index names), which Django's own DDL
    does not reproduce. Subclassing CreateModel keeps ``migrate --fake-initial``
    working: Django recognises the operation and fakes it when the table already
    exists. The model state is declared as usual so later migrations build on it.
    """

    def __init__(self, *args, sql: str, reverse_sql: str, **kwargs):
        self.sql = sql
        self.reverse_sql = reverse_sql
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, args, kwargs = super().deconstruct()
        kwargs["sql"] = self.sql
        kwargs["reverse_sql"] = self.reverse_sql
        return name, args, kwargs

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        schema_editor.execute(self.sql, params=None)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        schema_editor.execute(self.reverse_sql, params=None)
