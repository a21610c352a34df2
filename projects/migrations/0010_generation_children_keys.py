"""Section versions and memoir exports get the composite foreign key every other child
table has (config.db.operations.same_company_as_parent): their company can never differ
from their section's or project's."""

from django.db import migrations, models

from config.db.operations import same_company_as_parent


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0009_generation_memoir"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="section",
            constraint=models.UniqueConstraint(
                fields=["company", "id"],
                name="sections_company_id_id_key",
                violation_error_message="This row already exists.",
            ),
        ),
        same_company_as_parent("section_versions", "section", "sections"),
        same_company_as_parent("memoir_exports", "project", "projects"),
    ]
