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

    def reduce(self, operation, app_label):
        # The SQL creates the table as it stands in this operation only: folding a later
        # AddField or AlterField into the model state (as squashmigrations does with a
        # plain CreateModel) would leave a state the SQL no longer produces. Nothing
        # folds into it, and nothing is optimised across it.
        return False


class AddFieldWithoutConstraint(migrations.AddField):
    """AddField of a foreign key whose constraint is added later (AddForeignKeyConstraint).

    Filling a new foreign-key column of a big table (a data migration's UPDATE) with
    the constraint in place queues one deferred check per row, checked at COMMIT;
    adding the constraint afterwards checks every row in one anti-join.
    """

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        field = to_state.apps.get_model(app_label, self.model_name)._meta.get_field(self.name)
        field.db_constraint = False
        try:
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        finally:
            field.db_constraint = True


class AddForeignKeyConstraint(migrations.operations.base.Operation):
    """The constraint of a field added by AddFieldWithoutConstraint: created NOT VALID
    (no scan under the strong lock), then validated (a scan that lets reads and
    writes go on). The ON DELETE rule is the field's, as for every foreign key."""

    reversible = True
    reduces_to_sql = True

    def __init__(self, model_name: str, name: str):
        self.model_name = model_name
        self.name = name

    def deconstruct(self):
        return self.__class__.__qualname__, [], {"model_name": self.model_name, "name": self.name}

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        field = model._meta.get_field(self.name)
        statement = schema_editor._create_fk_sql(model, field, "_fk_%(to_table)s_%(to_column)s")
        schema_editor.execute(f"{statement} NOT VALID")
        schema_editor.execute(
            f"ALTER TABLE {schema_editor.quote_name(model._meta.db_table)} "
            f"VALIDATE CONSTRAINT {statement.parts['name']}"
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        field = model._meta.get_field(self.name)
        for name in schema_editor._constraint_names(model, [field.column], foreign_key=True):
            schema_editor.execute(schema_editor._delete_fk_sql(model, name))

    def describe(self):
        return f"Add and validate the foreign key of {self.model_name}.{self.name}"

    @property
    def migration_name_fragment(self):
        return f"{self.model_name.lower()}_{self.name.lower()}_fk"


def set_not_null_sql(table: str, column: str) -> tuple[str, str]:
    """Forward and reverse SQL making ``column`` NOT NULL without a second scan under
    ACCESS EXCLUSIVE: a validated CHECK lets PostgreSQL (12+) skip the scan."""
    check = f"{table}_{column}_not_null"
    forward = (
        f"ALTER TABLE {table} ADD CONSTRAINT {check} CHECK ({column} IS NOT NULL) NOT VALID;\n"
        f"ALTER TABLE {table} VALIDATE CONSTRAINT {check};\n"
        f"ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL;\n"
        f"ALTER TABLE {table} DROP CONSTRAINT {check};"
    )
    reverse = f"ALTER TABLE {table} ALTER COLUMN {column} DROP NOT NULL;"
    return forward, reverse


def same_company_as_parent(
    table: str, parent_field: str, parent_table: str, *, on_delete: str = "CASCADE"
) -> migrations.RunSQL:
    """A foreign key on the child's ``(company_id, <parent>_id)`` to the parent's
    ``(company_id, id)`` (which the parent's unique constraint allows): a child row can
    never name another company than its parent's. Added NOT VALID, then validated.
    ``on_delete``: CASCADE for a parent that owns its children; NO ACTION for a
    reference that must not be deleted while it is named (a row whose key is null is
    not checked)."""
    if on_delete not in ("CASCADE", "NO ACTION"):
        raise ValueError(f"Unexpected ON DELETE rule: {on_delete!r}")
    parent_column = f"{parent_field}_id"
    composite = f"{table}_company_{parent_field}_fk"
    return migrations.RunSQL(
        f"ALTER TABLE {table} ADD CONSTRAINT {composite} FOREIGN KEY (company_id, "
        f"{parent_column}) REFERENCES {parent_table} (company_id, id) ON DELETE {on_delete} "
        f"NOT VALID;\nALTER TABLE {table} VALIDATE CONSTRAINT {composite};",
        f"ALTER TABLE {table} DROP CONSTRAINT {composite};",
    )


def company_from_parent(
    *,
    model_name: str,
    table: str,
    parent_field: str,
    parent_table: str,
) -> list[migrations.operations.base.Operation]:
    """Operations giving a child table the ``company_id`` of its parent (issue 11):

    the column added without its constraint, filled in one set-based UPDATE, made NOT
    NULL (proven by a validated CHECK), its foreign key to companies added NOT VALID then
    validated; a foreign key on ``(company_id, <parent>_id)`` to the parent's
    ``(company_id, id)`` (which the parent's unique constraint allows) so that the two
    can never disagree; an index on ``(company_id, <parent>_id)``; and the table's
    row-level security policy (config/db/rls.py).
    """
    from django.db import models

    from config.db.rls import company_policy

    not_null, nullable = set_not_null_sql(table, "company_id")
    policy, no_policy = company_policy(table)

    def company(null: bool):
        return models.ForeignKey(
            db_index=False,
            editable=False,
            null=null,
            on_delete=models.deletion.CASCADE,
            related_name="+",
            to="tenants.company",
            verbose_name="company",
        )

    return [
        AddFieldWithoutConstraint(model_name=model_name, name="company", field=company(True)),
        migrations.RunSQL(
            f"UPDATE {table} c SET company_id = p.company_id FROM {parent_table} p "
            f"WHERE p.id = c.{parent_field}_id",
            migrations.RunSQL.noop,
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(not_null, nullable)],
            state_operations=[
                migrations.AlterField(model_name=model_name, name="company", field=company(False))
            ],
        ),
        AddForeignKeyConstraint(model_name=model_name, name="company"),
        same_company_as_parent(table, parent_field, parent_table),
        migrations.AddIndex(
            model_name=model_name,
            index=models.Index(fields=["company", parent_field], name=f"idx_{table}_company"),
        ),
        migrations.RunSQL(policy, no_policy),
    ]
