"""After tenants.0002 has given every legacy project its company: the status becomes
``project_status_enum``, company_id NOT NULL, the foreign keys are added and
validated, and the indexes on the filled columns are built.

Every step reads the table at most once: the status conversion is the only rewrite,
the constraints are created NOT VALID and validated (a scan that does not block
reads and writes), and NOT NULL is proven by a validated CHECK so that setting it
needs no second scan. The migration stays atomic, so CREATE INDEX cannot be
CONCURRENTLY here: a failure anywhere leaves the database as it was.
"""

from django.db import migrations, models

import config.db.enums
from config.db.operations import AddForeignKeyConstraint, set_not_null_sql
from projects.migrations._legacy_status import STATUS_FROM_ENUM, STATUS_TO_ENUM

COMPANY_NOT_NULL, COMPANY_NULLABLE = set_not_null_sql("projects", "company_id")


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0002_multi_tenant"),
        ("tenants", "0002_adopt_legacy_data"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(STATUS_TO_ENUM, STATUS_FROM_ENUM)],
            state_operations=[
                migrations.AlterField(
                    model_name="project",
                    name="status",
                    field=config.db.enums.EnumField(
                        choices=[
                            ("draft", "Draft"),
                            ("rc_analyzing", "RC being analysed"),
                            ("rc_analyzed", "RC analysed"),
                            ("matching", "Matching content"),
                            ("matched", "Content matched"),
                            ("generating", "Generating"),
                            ("generated", "Generated"),
                            ("reviewing", "In review"),
                            ("completed", "Completed"),
                            ("submitted", "Submitted"),
                        ],
                        db_default="draft",
                        default="draft",
                        enum_type="project_status_enum",
                        verbose_name="status",
                    ),
                ),
            ],
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(COMPANY_NOT_NULL, COMPANY_NULLABLE)],
            state_operations=[
                migrations.AlterField(
                    model_name="project",
                    name="company",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=models.deletion.CASCADE,
                        to="tenants.company",
                        verbose_name="company",
                    ),
                ),
            ],
        ),
        AddForeignKeyConstraint(model_name="project", name="company"),
        AddForeignKeyConstraint(model_name="project", name="created_by"),
        migrations.AddIndex(
            model_name="project",
            index=models.Index(
                models.F("company"),
                models.OrderBy(models.F("created_at"), descending=True),
                name="idx_projects_company_id",
            ),
        ),
        migrations.AddIndex(
            model_name="project",
            index=models.Index(fields=["company", "status"], name="idx_projects_company_status"),
        ),
        migrations.AddIndex(
            model_name="project",
            index=models.Index(fields=["created_by"], name="idx_projects_created_by"),
        ),
    ]
