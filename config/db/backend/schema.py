"""Schema editor that makes PostgreSQL enforce each foreign key's ``on_delete``.

Django emulates ``on_delete`` in Python and creates every foreign key as plain
``NO ACTION``. Other programs (the generation service, operators' SQL) write to this
database directly, so a plain ``DELETE FROM companies`` must cascade exactly as the
ORM does. Deriving the rule from the field keeps models, migrations and database in
step: every FK Django (re)creates gets it, and changing ``on_delete`` alters the
constraint.

Django 6.1 adds ``ForeignKey(db_on_delete=…)``, which declares the same rule in the
DDL itself; once the project moves to it, this editor and its overrides go away.
"""

from django.db import models
from django.db.backends.postgresql.schema import DatabaseSchemaEditor as BaseSchemaEditor

_RULES = {
    models.CASCADE: " ON DELETE CASCADE",
    models.SET_NULL: " ON DELETE SET NULL",
    models.RESTRICT: " ON DELETE RESTRICT",
    models.PROTECT: " ON DELETE RESTRICT",
    models.SET_DEFAULT: " ON DELETE SET DEFAULT",
}


def on_delete_sql(field) -> str:
    return _RULES.get(getattr(field.remote_field, "on_delete", None), "")


class DatabaseSchemaEditor(BaseSchemaEditor):
    sql_create_fk = (
        "ALTER TABLE %(table)s ADD CONSTRAINT %(name)s FOREIGN KEY (%(column)s) "
        "REFERENCES %(to_table)s (%(to_column)s)%(on_delete)s%(deferrable)s"
    )
    # Always add FKs through _create_fk_sql() so the rule is never skipped.
    sql_create_column_inline_fk = None

    def _create_fk_sql(self, model, field, suffix):
        statement = super()._create_fk_sql(model, field, suffix)
        statement.parts["on_delete"] = on_delete_sql(field)
        return statement

    def _field_should_be_altered(self, old_field, new_field, ignore=None):
        if (
            old_field.remote_field
            and new_field.remote_field
            and on_delete_sql(old_field) != on_delete_sql(new_field)
        ):
            return True
        return super()._field_should_be_altered(old_field, new_field, ignore)
