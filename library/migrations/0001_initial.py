import uuid

import django.contrib.postgres.fields
import django.contrib.postgres.functions
import django.contrib.postgres.indexes
import django.db.models.deletion
import django.db.models.functions.datetime
from django.conf import settings
from django.db import migrations, models

import config.db.enums
from config.db.enums import CreateEnumType


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("tenants", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        CreateEnumType(
            "content_block_type_enum",
            [
                "company-profile",
                "person-cv",
                "equipment",
                "procedure",
                "certification",
                "methodology-template",
                "past-project-reference",
            ],
        ),
        CreateEnumType(
            "file_relationship_enum", ["main-file", "photo", "certificate", "datasheet"]
        ),
        migrations.CreateModel(
            name="BlockFile",
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
                    "relationship",
                    config.db.enums.EnumField(
                        choices=[
                            ("main-file", "Main file"),
                            ("photo", "Photo"),
                            ("certificate", "Certificate"),
                            ("datasheet", "Datasheet"),
                        ],
                        enum_type="file_relationship_enum",
                        verbose_name="relationship",
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now(),
                        editable=False,
                        verbose_name="created at",
                    ),
                ),
            ],
            options={
                "verbose_name": "attached file",
                "verbose_name_plural": "attached files",
                "db_table": "block_files",
            },
        ),
        migrations.CreateModel(
            name="ContentBlock",
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
                    "type",
                    config.db.enums.EnumField(
                        choices=[
                            ("company-profile", "Company profile"),
                            ("person-cv", "Person CV"),
                            ("equipment", "Equipment"),
                            ("procedure", "Procedure"),
                            ("certification", "Certification"),
                            ("methodology-template", "Methodology template"),
                            ("past-project-reference", "Past project reference"),
                        ],
                        enum_type="content_block_type_enum",
                        verbose_name="type",
                    ),
                ),
                ("title", models.CharField(max_length=500, verbose_name="title")),
                ("content", models.TextField(verbose_name="content")),
                (
                    "metadata",
                    models.JSONField(
                        blank=True, db_default={}, default=dict, verbose_name="metadata"
                    ),
                ),
                (
                    "tags",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.TextField(),
                        blank=True,
                        null=True,
                        size=None,
                        verbose_name="tags",
                    ),
                ),
                (
                    "version",
                    models.IntegerField(
                        db_default=1, default=1, editable=False, verbose_name="version"
                    ),
                ),
                (
                    "is_active",
                    models.BooleanField(db_default=True, default=True, verbose_name="active"),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now(),
                        editable=False,
                        verbose_name="created at",
                    ),
                ),
                (
                    "updated_at",
                    models.DateTimeField(
                        auto_now=True,
                        db_default=django.db.models.functions.datetime.Now(),
                        verbose_name="updated at",
                    ),
                ),
            ],
            options={
                "verbose_name": "content block",
                "verbose_name_plural": "content blocks",
                "db_table": "content_blocks",
                "ordering": ["-updated_at"],
            },
        ),
        migrations.CreateModel(
            name="PastProject",
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
                    "client",
                    models.CharField(blank=True, max_length=255, null=True, verbose_name="client"),
                ),
                ("year", models.IntegerField(blank=True, null=True, verbose_name="year")),
                (
                    "project_type",
                    models.CharField(
                        blank=True, max_length=100, null=True, verbose_name="project type"
                    ),
                ),
                (
                    "description",
                    models.TextField(blank=True, null=True, verbose_name="description"),
                ),
                (
                    "techniques_used",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.TextField(),
                        blank=True,
                        null=True,
                        size=None,
                        verbose_name="techniques used",
                    ),
                ),
                (
                    "success_factors",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.TextField(),
                        blank=True,
                        null=True,
                        size=None,
                        verbose_name="success factors",
                    ),
                ),
                (
                    "photos",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.TextField(),
                        blank=True,
                        null=True,
                        size=None,
                        verbose_name="photos",
                    ),
                ),
                (
                    "is_referenceable",
                    models.BooleanField(
                        db_default=True, default=True, verbose_name="referenceable"
                    ),
                ),
                (
                    "metadata",
                    models.JSONField(
                        blank=True, db_default={}, default=dict, verbose_name="metadata"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now(),
                        editable=False,
                        verbose_name="created at",
                    ),
                ),
            ],
            options={
                "verbose_name": "past project",
                "verbose_name_plural": "past projects",
                "db_table": "past_projects",
                "ordering": ["-year", "name"],
            },
        ),
        migrations.CreateModel(
            name="SectionTemplate",
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
                ("title", models.CharField(max_length=500, verbose_name="title")),
                ("template_content", models.TextField(verbose_name="template")),
                (
                    "placeholders",
                    models.JSONField(
                        blank=True,
                        db_default={},
                        default=dict,
                        help_text="{name: description} of each placeholder used in the template.",
                        verbose_name="placeholders",
                    ),
                ),
                (
                    "usage_count",
                    models.IntegerField(
                        db_default=0, default=0, editable=False, verbose_name="usage count"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now(),
                        editable=False,
                        verbose_name="created at",
                    ),
                ),
            ],
            options={
                "verbose_name": "section template",
                "verbose_name_plural": "section templates",
                "db_table": "section_templates",
                "ordering": ["section_type", "title"],
            },
        ),
        migrations.CreateModel(
            name="StoredFile",
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
                ("filename", models.CharField(max_length=255, verbose_name="file name")),
                (
                    "file_type",
                    models.CharField(
                        blank=True, max_length=100, null=True, verbose_name="MIME type"
                    ),
                ),
                ("storage_url", models.TextField(verbose_name="storage location")),
                (
                    "size_bytes",
                    models.BigIntegerField(blank=True, null=True, verbose_name="size (bytes)"),
                ),
                (
                    "uploaded_at",
                    models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now(),
                        editable=False,
                        verbose_name="uploaded at",
                    ),
                ),
                (
                    "metadata",
                    models.JSONField(
                        blank=True, db_default={}, default=dict, verbose_name="metadata"
                    ),
                ),
            ],
            options={
                "verbose_name": "file",
                "verbose_name_plural": "files",
                "db_table": "files",
                "ordering": ["-uploaded_at"],
            },
        ),
        migrations.AddField(
            model_name="contentblock",
            name="company",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                to="tenants.company",
                verbose_name="company",
            ),
        ),
        migrations.AddField(
            model_name="contentblock",
            name="created_by",
            field=models.ForeignKey(
                db_column="created_by",
                db_index=False,
                on_delete=django.db.models.deletion.RESTRICT,
                related_name="content_blocks",
                to=settings.AUTH_USER_MODEL,
                verbose_name="created by",
            ),
        ),
        migrations.AddField(
            model_name="blockfile",
            name="block",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="block_files",
                to="library.contentblock",
                verbose_name="content block",
            ),
        ),
        migrations.AddField(
            model_name="pastproject",
            name="company",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                to="tenants.company",
                verbose_name="company",
            ),
        ),
        migrations.AddField(
            model_name="sectiontemplate",
            name="company",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                to="tenants.company",
                verbose_name="company",
            ),
        ),
        migrations.AddField(
            model_name="storedfile",
            name="company",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                to="tenants.company",
                verbose_name="company",
            ),
        ),
        migrations.AddField(
            model_name="storedfile",
            name="uploaded_by",
            field=models.ForeignKey(
                db_column="uploaded_by",
                db_index=False,
                on_delete=django.db.models.deletion.RESTRICT,
                related_name="uploaded_files",
                to=settings.AUTH_USER_MODEL,
                verbose_name="uploaded by",
            ),
        ),
        migrations.AddField(
            model_name="contentblock",
            name="files",
            field=models.ManyToManyField(
                related_name="blocks",
                through="library.BlockFile",
                to="library.storedfile",
                verbose_name="files",
            ),
        ),
        migrations.AddField(
            model_name="blockfile",
            name="file",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="block_files",
                to="library.storedfile",
                verbose_name="file",
            ),
        ),
        migrations.AddIndex(
            model_name="pastproject",
            index=models.Index(fields=["company"], name="idx_past_projects_company_id"),
        ),
        migrations.AddIndex(
            model_name="pastproject",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["techniques_used"], name="idx_past_projects_techniques"
            ),
        ),
        migrations.AddIndex(
            model_name="sectiontemplate",
            index=models.Index(
                fields=["company", "section_type"], name="idx_section_templates_company_type"
            ),
        ),
        migrations.AddIndex(
            model_name="sectiontemplate",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["placeholders"], name="idx_section_templates_placeholders"
            ),
        ),
        migrations.AddConstraint(
            model_name="sectiontemplate",
            constraint=models.CheckConstraint(
                condition=models.Q(("usage_count__gte", 0)),
                name="section_templates_usage_count_non_negative",
                violation_error_message="The usage count cannot be negative.",
            ),
        ),
        migrations.AddIndex(
            model_name="storedfile",
            index=models.Index(fields=["company"], name="idx_files_company_id"),
        ),
        migrations.AddIndex(
            model_name="storedfile",
            index=models.Index(fields=["uploaded_by"], name="idx_files_uploaded_by"),
        ),
        migrations.AddConstraint(
            model_name="storedfile",
            constraint=models.CheckConstraint(
                condition=models.Q(("size_bytes__gte", 0)),
                name="files_size_bytes_non_negative",
                violation_error_message="A file size cannot be negative.",
            ),
        ),
        migrations.AddIndex(
            model_name="contentblock",
            index=models.Index(fields=["company", "type"], name="idx_content_blocks_company_type"),
        ),
        migrations.AddIndex(
            model_name="contentblock",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["tags"], name="idx_content_blocks_tags"
            ),
        ),
        migrations.AddIndex(
            model_name="contentblock",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["metadata"], name="idx_content_blocks_metadata"
            ),
        ),
        migrations.AddIndex(
            model_name="contentblock",
            index=models.Index(fields=["created_by"], name="idx_content_blocks_created_by"),
        ),
        migrations.AddConstraint(
            model_name="contentblock",
            constraint=models.CheckConstraint(
                condition=models.Q(("version__gte", 1)),
                name="content_blocks_version_positive",
                violation_error_message="The version starts at 1.",
            ),
        ),
        migrations.AddIndex(
            model_name="blockfile",
            index=models.Index(fields=["file"], name="idx_block_files_file_id"),
        ),
        migrations.AddConstraint(
            model_name="blockfile",
            constraint=models.UniqueConstraint(
                fields=("block", "file"),
                name="block_files_block_file_unique",
                violation_error_message="This file is already attached to this block.",
            ),
        ),
    ]
