"""Document chunks carry their company (issue 11): set-based, kept equal to the memoir's
by the database, under row-level security; a company's chunks are then read without a
join."""

from django.db import migrations, models

from config.db.operations import company_from_parent


class Migration(migrations.Migration):
    dependencies = [
        ("rag", "0006_year_range"),
        ("tenants", "0004_row_level_security"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="memoire",
            constraint=models.UniqueConstraint(
                fields=["company", "id"],
                name="memoires_company_id_id_key",
                violation_error_message="This row already exists.",
            ),
        ),
        *company_from_parent(
            model_name="documentchunk",
            table="document_chunks",
            parent_field="memoire",
            parent_table="memoires",
        ),
    ]
