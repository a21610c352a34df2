"""The multi-tenant extension of memoires: the company and uploader columns (their
foreign keys and indexes come in rag.0003, after tenants.0002 has filled them)."""

import django.contrib.postgres.fields
import django.contrib.postgres.indexes
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from config.db.operations import AddFieldWithoutConstraint


class Migration(migrations.Migration):
    dependencies = [
        ("rag", "0001_initial"),
        ("tenants", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="documentchunk",
            options={
                "ordering": ["memoire", "created_at"],
                "verbose_name": "document chunk",
                "verbose_name_plural": "document chunks",
            },
        ),
        migrations.AlterModelOptions(
            name="memoire",
            options={
                "ordering": ["-created_at"],
                "verbose_name": "memoir",
                "verbose_name_plural": "memoirs",
            },
        ),
        AddFieldWithoutConstraint(
            model_name="memoire",
            name="company",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                to="tenants.company",
                verbose_name="company",
            ),
        ),
        migrations.AddField(
            model_name="memoire",
            name="metadata",
            field=models.JSONField(
                blank=True, db_default={}, default=dict, verbose_name="metadata"
            ),
        ),
        migrations.AddField(
            model_name="memoire",
            name="project_type",
            field=models.CharField(
                blank=True, max_length=100, null=True, verbose_name="project type"
            ),
        ),
        migrations.AddField(
            model_name="memoire",
            name="techniques_used",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.TextField(),
                blank=True,
                null=True,
                size=None,
                verbose_name="techniques used",
            ),
        ),
        AddFieldWithoutConstraint(
            model_name="memoire",
            name="uploaded_by",
            field=models.ForeignKey(
                db_column="uploaded_by",
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="uploaded_memoires",
                to=settings.AUTH_USER_MODEL,
                verbose_name="uploaded by",
            ),
        ),
        migrations.AddIndex(
            model_name="memoire",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["techniques_used"], name="idx_memoires_techniques"
            ),
        ),
    ]
