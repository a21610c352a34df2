"""Content block versions and attached files carry their company (issue 11): set-based,
kept equal to the block's by the database, under row-level security."""

from django.db import migrations, models

from config.db.operations import company_from_parent


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0008_content_blocks_valid_index"),
        ("tenants", "0004_row_level_security"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="contentblock",
            constraint=models.UniqueConstraint(
                fields=["company", "id"],
                name="content_blocks_company_id_id_key",
                violation_error_message="This row already exists.",
            ),
        ),
        *company_from_parent(
            model_name="contentblockversion",
            table="content_block_versions",
            parent_field="block",
            parent_table="content_blocks",
        ),
        *company_from_parent(
            model_name="blockfile",
            table="block_files",
            parent_field="block",
            parent_table="content_blocks",
        ),
    ]
