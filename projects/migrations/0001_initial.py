"""The legacy ``projects`` and ``sections`` tables, exactly as legacy_schema.sql has them.

A database created by the legacy application already holds them: adopt it with
``manage.py migrate --fake-initial``.
"""

import uuid

import django.contrib.postgres.functions
import django.db.models.deletion
import django.db.models.functions.datetime
from django.db import migrations, models

from config.db.operations import CreateModelFromSQL


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        CreateModelFromSQL(
            name="Project",
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
                ("name", models.CharField(max_length=255, verbose_name="name")),
                (
                    "rc_storage_path",
                    models.CharField(
                        blank=True, max_length=500, null=True, verbose_name="RC storage path"
                    ),
                ),
                ("rc_context", models.TextField(blank=True, null=True, verbose_name="RC context")),
                (
                    "status",
                    models.CharField(
                        db_default="draft",
                        default="draft",
                        max_length=50,
                        null=True,
                        verbose_name="status",
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now(),
                        editable=False,
                        null=True,
                        verbose_name="created at",
                    ),
                ),
            ],
            options={"db_table": "projects"},
            sql="""
                CREATE TABLE projects (
                    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                    name            varchar(255) NOT NULL,
                    rc_storage_path varchar(500),
                    rc_context      text,
                    status          varchar(50) DEFAULT 'draft',
                    created_at      timestamptz DEFAULT now()
                );
            """,
            reverse_sql="DROP TABLE projects;",
        ),
        CreateModelFromSQL(
            name="Section",
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
                ("section_type", models.CharField(max_length=100, verbose_name="section type")),
                ("title", models.CharField(max_length=255, verbose_name="title")),
                ("content", models.TextField(blank=True, null=True, verbose_name="content")),
                ("order_num", models.IntegerField(blank=True, null=True, verbose_name="order")),
                (
                    "created_at",
                    models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now(),
                        editable=False,
                        null=True,
                        verbose_name="created at",
                    ),
                ),
                (
                    "project",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="sections",
                        to="projects.project",
                        verbose_name="project",
                    ),
                ),
            ],
            options={
                "db_table": "sections",
                "indexes": [
                    models.Index(fields=["project", "order_num"], name="idx_sections_project")
                ],
            },
            sql="""
                CREATE TABLE sections (
                    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                    project_id   uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                    section_type varchar(100) NOT NULL,
                    title        varchar(255) NOT NULL,
                    content      text,
                    order_num    integer,
                    created_at   timestamptz DEFAULT now()
                );
                CREATE INDEX idx_sections_project ON sections (project_id, order_num);
            """,
            reverse_sql="DROP TABLE sections;",
        ),
    ]
