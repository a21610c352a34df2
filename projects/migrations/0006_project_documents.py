"""Consultation documents of a project (project_documents): the RC the analysis reads,
the notice, the CCTP…, stored under the company's path."""

import uuid

import django.contrib.postgres.functions
import django.db.models.deletion
import django.db.models.functions.datetime
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0005_company_status_newest_first"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ProjectDocument",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        db_default=django.contrib.postgres.functions.RandomUUID(),
                        default=uuid.uuid4,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("rc", "Consultation rules (RC)"),
                            ("notice", "Contract notice"),
                            ("cctp", "Technical specifications (CCTP)"),
                            ("ccap", "Administrative specifications (CCAP)"),
                            ("other", "Other consultation document"),
                        ],
                        default="rc",
                        max_length=20,
                        verbose_name="kind of document",
                    ),
                ),
                ("filename", models.CharField(max_length=255, verbose_name="file name")),
                ("storage_path", models.CharField(max_length=500, verbose_name="storage path")),
                ("content_type", models.CharField(max_length=100, verbose_name="content type")),
                ("size_bytes", models.BigIntegerField(verbose_name="size (bytes)")),
                ("sha256", models.CharField(max_length=64, verbose_name="SHA-256")),
                (
                    "created_at",
                    models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now(),
                        editable=False,
                        verbose_name="created at",
                    ),
                ),
                (
                    "project",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="documents",
                        to="projects.project",
                        verbose_name="project",
                    ),
                ),
                (
                    "uploaded_by",
                    models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="uploaded by",
                    ),
                ),
            ],
            options={
                "verbose_name": "consultation document",
                "verbose_name_plural": "consultation documents",
                "db_table": "project_documents",
                "ordering": ["project", "-created_at"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("project", "sha256"),
                        name="project_documents_once_per_project",
                        violation_error_message="This file is already attached to the project.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("size_bytes__gte", 0)),
                        name="project_documents_size_non_negative",
                        violation_error_message="A file size cannot be negative.",
                    ),
                ],
            },
        ),
    ]
