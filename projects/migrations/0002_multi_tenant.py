"""The multi-tenant extension of projects and sections, and the tender workflow tables.

projects.company_id and created_by are added without their foreign keys, and the
indexes on them are not built yet: tenants.0002 fills them for the legacy rows in one
UPDATE, then projects.0003 converts the status, adds the constraints (NOT VALID, then
validated) and builds the indexes — one pass over a big table instead of several.
"""

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
from config.db.operations import AddFieldWithoutConstraint


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0001_initial"),
        ("tenants", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        CreateEnumType(
            "project_status_enum",
            [
                "draft",
                "rc_analyzing",
                "rc_analyzed",
                "matching",
                "matched",
                "generating",
                "generated",
                "reviewing",
                "completed",
                "submitted",
            ],
        ),
        CreateEnumType("generation_status_enum", ["pending", "in_progress", "completed", "failed"]),
        migrations.CreateModel(
            name="ContentMatch",
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
                ("requirement_id", models.CharField(max_length=100, verbose_name="requirement")),
                (
                    "matched_blocks",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.UUIDField(),
                        blank=True,
                        null=True,
                        size=None,
                        verbose_name="matched blocks",
                    ),
                ),
                ("confidence", models.FloatField(blank=True, null=True, verbose_name="confidence")),
                ("match_reason", models.TextField(blank=True, null=True, verbose_name="reason")),
                (
                    "needs_generation",
                    models.BooleanField(
                        db_default=False, default=False, verbose_name="needs generation"
                    ),
                ),
                (
                    "needs_upload",
                    models.BooleanField(
                        db_default=False, default=False, verbose_name="needs upload"
                    ),
                ),
                (
                    "approved",
                    models.BooleanField(db_default=False, default=False, verbose_name="approved"),
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
                "verbose_name": "content match",
                "verbose_name_plural": "content matches",
                "db_table": "content_matches",
                "ordering": ["project", "requirement_id"],
            },
        ),
        migrations.CreateModel(
            name="GenerationRequest",
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
                (
                    "status",
                    config.db.enums.EnumField(
                        choices=[
                            ("pending", "Pending"),
                            ("in_progress", "In progress"),
                            ("completed", "Completed"),
                            ("failed", "Failed"),
                        ],
                        db_default="pending",
                        default="pending",
                        enum_type="generation_status_enum",
                        verbose_name="status",
                    ),
                ),
                (
                    "request_context",
                    models.JSONField(
                        blank=True, db_default={}, default=dict, verbose_name="request context"
                    ),
                ),
                (
                    "generated_content",
                    models.TextField(blank=True, null=True, verbose_name="generated content"),
                ),
                (
                    "quality_score",
                    models.FloatField(blank=True, null=True, verbose_name="quality score"),
                ),
                (
                    "model_used",
                    models.CharField(blank=True, max_length=100, null=True, verbose_name="model"),
                ),
                ("tokens_used", models.IntegerField(blank=True, null=True, verbose_name="tokens")),
                (
                    "cost_usd",
                    models.DecimalField(
                        blank=True,
                        decimal_places=6,
                        max_digits=10,
                        null=True,
                        verbose_name="cost (USD)",
                    ),
                ),
                (
                    "latency_seconds",
                    models.FloatField(blank=True, null=True, verbose_name="latency (s)"),
                ),
                ("error_message", models.TextField(blank=True, null=True, verbose_name="error")),
                (
                    "created_at",
                    models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now(),
                        editable=False,
                        verbose_name="created at",
                    ),
                ),
                (
                    "completed_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="completed at"),
                ),
            ],
            options={
                "verbose_name": "generation request",
                "verbose_name_plural": "generation requests",
                "db_table": "generation_requests",
                "ordering": ["-created_at"],
            },
        ),
        migrations.CreateModel(
            name="RCAnalysis",
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
                ("rc_file_url", models.TextField(verbose_name="RC file URL")),
                (
                    "project_info",
                    models.JSONField(
                        blank=True, db_default={}, default=dict, verbose_name="project information"
                    ),
                ),
                (
                    "required_sections",
                    models.JSONField(
                        blank=True, db_default=[], default=list, verbose_name="required sections"
                    ),
                ),
                (
                    "special_requirements",
                    models.JSONField(
                        blank=True, db_default=[], default=list, verbose_name="special requirements"
                    ),
                ),
                (
                    "format",
                    models.JSONField(
                        blank=True, db_default={}, default=dict, verbose_name="format"
                    ),
                ),
                (
                    "scoring_criteria",
                    models.JSONField(
                        blank=True, db_default={}, default=dict, verbose_name="scoring criteria"
                    ),
                ),
                (
                    "analyzed_at",
                    models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now(),
                        verbose_name="analysed at",
                    ),
                ),
                (
                    "confidence_score",
                    models.FloatField(blank=True, null=True, verbose_name="confidence"),
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
                "verbose_name": "RC analysis",
                "verbose_name_plural": "RC analyses",
                "db_table": "rc_analysis",
                "ordering": ["-analyzed_at"],
            },
        ),
        migrations.AlterModelOptions(
            name="project",
            options={
                "ordering": ["-created_at"],
                "verbose_name": "project",
                "verbose_name_plural": "projects",
            },
        ),
        migrations.AlterModelOptions(
            name="section",
            options={
                "ordering": ["project", "order_num"],
                "verbose_name": "section",
                "verbose_name_plural": "sections",
            },
        ),
        migrations.AddField(
            model_name="project",
            name="client",
            field=models.CharField(blank=True, max_length=255, null=True, verbose_name="client"),
        ),
        AddFieldWithoutConstraint(
            model_name="project",
            name="company",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                to="tenants.company",
                verbose_name="company",
            ),
        ),
        AddFieldWithoutConstraint(
            model_name="project",
            name="created_by",
            field=models.ForeignKey(
                db_column="created_by",
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="created_projects",
                to=settings.AUTH_USER_MODEL,
                verbose_name="created by",
            ),
        ),
        migrations.AddField(
            model_name="project",
            name="deadline",
            field=models.DateTimeField(blank=True, null=True, verbose_name="deadline"),
        ),
        migrations.AddField(
            model_name="project",
            name="final_document_url",
            field=models.TextField(blank=True, null=True, verbose_name="final document URL"),
        ),
        migrations.AddField(
            model_name="project",
            name="location",
            field=models.CharField(blank=True, max_length=255, null=True, verbose_name="location"),
        ),
        migrations.AddField(
            model_name="project",
            name="lot",
            field=models.CharField(blank=True, max_length=100, null=True, verbose_name="lot"),
        ),
        migrations.AddField(
            model_name="project",
            name="metadata",
            field=models.JSONField(
                blank=True, db_default={}, default=dict, verbose_name="metadata"
            ),
        ),
        migrations.AddField(
            model_name="project",
            name="project_type",
            field=models.CharField(
                blank=True, max_length=100, null=True, verbose_name="project type"
            ),
        ),
        migrations.AddField(
            model_name="project",
            name="size",
            field=models.CharField(blank=True, max_length=100, null=True, verbose_name="size"),
        ),
        migrations.AddField(
            model_name="section",
            name="generated_by_ai",
            field=models.BooleanField(
                db_default=False, default=False, verbose_name="generated by AI"
            ),
        ),
        migrations.AddField(
            model_name="section",
            name="quality_score",
            field=models.FloatField(blank=True, null=True, verbose_name="quality score"),
        ),
        migrations.AddField(
            model_name="section",
            name="reviewed",
            field=models.BooleanField(db_default=False, default=False, verbose_name="reviewed"),
        ),
        migrations.AddField(
            model_name="section",
            name="reviewed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="reviewed at"),
        ),
        migrations.AddField(
            model_name="section",
            name="reviewer",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="reviewed_sections",
                to=settings.AUTH_USER_MODEL,
                verbose_name="reviewer",
            ),
        ),
        migrations.AddField(
            model_name="section",
            name="source_blocks",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.UUIDField(),
                blank=True,
                null=True,
                size=None,
                verbose_name="source blocks",
            ),
        ),
        migrations.AddIndex(
            model_name="section",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["source_blocks"], name="idx_sections_source_blocks"
            ),
        ),
        migrations.AddIndex(
            model_name="section",
            index=models.Index(fields=["reviewer"], name="idx_sections_reviewer_id"),
        ),
        migrations.AddConstraint(
            model_name="section",
            constraint=models.CheckConstraint(
                condition=models.Q(("quality_score__gte", 0), ("quality_score__lte", 1)),
                name="sections_quality_score_between_0_and_1",
                violation_error_message="quality_score must be between 0 and 1.",
            ),
        ),
        migrations.AddField(
            model_name="contentmatch",
            name="project",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="content_matches",
                to="projects.project",
                verbose_name="project",
            ),
        ),
        migrations.AddField(
            model_name="generationrequest",
            name="project",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="generation_requests",
                to="projects.project",
                verbose_name="project",
            ),
        ),
        migrations.AddField(
            model_name="rcanalysis",
            name="project",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="rc_analysis",
                to="projects.project",
                verbose_name="project",
            ),
        ),
        # Name the one-analysis-per-project unique index as the schema contract does.
        migrations.RunSQL(
            "ALTER TABLE rc_analysis RENAME CONSTRAINT rc_analysis_project_id_key TO idx_rc_analysis_project_id;",
            "ALTER TABLE rc_analysis RENAME CONSTRAINT idx_rc_analysis_project_id TO rc_analysis_project_id_key;",
        ),
        migrations.AddIndex(
            model_name="contentmatch",
            index=models.Index(fields=["project"], name="idx_content_matches_project_id"),
        ),
        migrations.AddIndex(
            model_name="contentmatch",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["matched_blocks"], name="idx_content_matches_blocks"
            ),
        ),
        migrations.AddConstraint(
            model_name="contentmatch",
            constraint=models.CheckConstraint(
                condition=models.Q(("confidence__gte", 0), ("confidence__lte", 1)),
                name="content_matches_confidence_between_0_and_1",
                violation_error_message="confidence must be between 0 and 1.",
            ),
        ),
        migrations.AddIndex(
            model_name="generationrequest",
            index=models.Index(fields=["project"], name="idx_generation_requests_project_id"),
        ),
        migrations.AddIndex(
            model_name="generationrequest",
            index=models.Index(fields=["status"], name="idx_generation_requests_status"),
        ),
        migrations.AddConstraint(
            model_name="generationrequest",
            constraint=models.CheckConstraint(
                condition=models.Q(("quality_score__gte", 0), ("quality_score__lte", 1)),
                name="generation_requests_quality_score_between_0_and_1",
                violation_error_message="quality_score must be between 0 and 1.",
            ),
        ),
        migrations.AddConstraint(
            model_name="generationrequest",
            constraint=models.CheckConstraint(
                condition=models.Q(("tokens_used__gte", 0)),
                name="generation_requests_tokens_used_non_negative",
                violation_error_message="tokens_used cannot be negative.",
            ),
        ),
        migrations.AddConstraint(
            model_name="generationrequest",
            constraint=models.CheckConstraint(
                condition=models.Q(("cost_usd__gte", 0)),
                name="generation_requests_cost_usd_non_negative",
                violation_error_message="cost_usd cannot be negative.",
            ),
        ),
        migrations.AddConstraint(
            model_name="generationrequest",
            constraint=models.CheckConstraint(
                condition=models.Q(("latency_seconds__gte", 0)),
                name="generation_requests_latency_seconds_non_negative",
                violation_error_message="latency_seconds cannot be negative.",
            ),
        ),
        migrations.AddConstraint(
            model_name="rcanalysis",
            constraint=models.CheckConstraint(
                condition=models.Q(("confidence_score__gte", 0), ("confidence_score__lte", 1)),
                name="rc_analysis_confidence_score_between_0_and_1",
                violation_error_message="confidence_score must be between 0 and 1.",
            ),
        ),
    ]
