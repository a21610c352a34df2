"""Past projects get an embedding beside the contract's columns, as content blocks have
(library.0010), and the unique (company_id, id) that the foreign key of content_matches
on (company_id, past_project_id) refers to (projects.0011). Row-level security on
past_projects (tenants.0004) is unchanged."""

import pgvector.django.vector
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0010_block_embeddings"),
    ]

    operations = [
        migrations.AddField(
            model_name="pastproject",
            name="embedding_384",
            field=pgvector.django.vector.VectorField(
                blank=True,
                dimensions=384,
                editable=False,
                null=True,
                verbose_name="embedding (384 dimensions)",
            ),
        ),
        migrations.AddField(
            model_name="pastproject",
            name="embedding_model",
            field=models.CharField(
                blank=True,
                editable=False,
                max_length=100,
                null=True,
                verbose_name="embedding model",
            ),
        ),
        migrations.AddConstraint(
            model_name="pastproject",
            constraint=models.UniqueConstraint(
                fields=["company", "id"],
                name="past_projects_company_id_id_key",
                violation_error_message="This row already exists.",
            ),
        ),
    ]
