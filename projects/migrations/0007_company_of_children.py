"""A project's sections, documents, RC analysis, content matches and generation requests
carry its company (issue 11): set-based, kept equal to the project's by the database,
under row-level security."""

from django.db import migrations, models

from config.db.operations import company_from_parent

CHILDREN = (
    ("section", "sections"),
    ("projectdocument", "project_documents"),
    ("rcanalysis", "rc_analysis"),
    ("contentmatch", "content_matches"),
    ("generationrequest", "generation_requests"),
)


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0006_project_documents"),
        ("tenants", "0004_row_level_security"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="project",
            constraint=models.UniqueConstraint(
                fields=["company", "id"],
                name="projects_company_id_id_key",
                violation_error_message="This row already exists.",
            ),
        ),
        *(
            operation
            for model_name, table in CHILDREN
            for operation in company_from_parent(
                model_name=model_name,
                table=table,
                parent_field="project",
                parent_table="projects",
            )
        ),
    ]
