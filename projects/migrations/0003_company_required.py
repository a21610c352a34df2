"""projects.company_id becomes NOT NULL once tenants.0002 has given every legacy row
its company."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0002_multi_tenant"),
        ("tenants", "0002_adopt_legacy_data"),
    ]

    operations = [
        # Plain SQL: Django's AlterField would also drop and re-create the foreign key,
        # a second full scan of the table for nothing.
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE projects ALTER COLUMN company_id SET NOT NULL;",
                    "ALTER TABLE projects ALTER COLUMN company_id DROP NOT NULL;",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="project",
                    name="company",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        to="tenants.company",
                        verbose_name="company",
                    ),
                ),
            ],
        ),
    ]
