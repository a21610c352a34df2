"""memoires.company_id becomes NOT NULL once tenants.0002 has given every legacy row
its company; then the foreign keys (NOT VALID, validated) and the indexes."""

from django.db import migrations, models

from config.db.operations import AddForeignKeyConstraint, set_not_null_sql

COMPANY_NOT_NULL, COMPANY_NULLABLE = set_not_null_sql("memoires", "company_id")


class Migration(migrations.Migration):
    dependencies = [
        ("rag", "0002_multi_tenant"),
        ("tenants", "0002_adopt_legacy_data"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(COMPANY_NOT_NULL, COMPANY_NULLABLE)],
            state_operations=[
                migrations.AlterField(
                    model_name="memoire",
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
        AddForeignKeyConstraint(model_name="memoire", name="company"),
        AddForeignKeyConstraint(model_name="memoire", name="uploaded_by"),
        migrations.AddIndex(
            model_name="memoire",
            index=models.Index(fields=["company"], name="idx_memoires_company_id"),
        ),
        migrations.AddIndex(
            model_name="memoire",
            index=models.Index(fields=["uploaded_by"], name="idx_memoires_uploaded_by"),
        ),
    ]
