"""A content match may propose one of the company's past projects (issue 14): a
nullable ``past_project_id``, its foreign key added NOT VALID then validated, a foreign
key on (company_id, past_project_id) to past_projects (company_id, id) so that a match
never names another company's past project (NO ACTION on delete, as the model's
RESTRICT: a past project a match names is not deleted), and an index for both. Sections
record the past projects they cite (``source_past_projects``). Every existing row has
no past project: nothing to fill. Row-level security on content_matches and sections is
unchanged (their policies read company_id)."""

from django.db import migrations, models

from config.db.operations import (
    AddFieldWithoutConstraint,
    AddForeignKeyConstraint,
    same_company_as_parent,
)


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0011_past_project_embeddings"),
        ("projects", "0010_generation_children_keys"),
    ]

    operations = [
        AddFieldWithoutConstraint(
            model_name="contentmatch",
            name="past_project",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=models.deletion.RESTRICT,
                related_name="content_matches",
                to="library.pastproject",
                verbose_name="past project",
            ),
        ),
        AddForeignKeyConstraint(model_name="contentmatch", name="past_project"),
        same_company_as_parent(
            "content_matches", "past_project", "past_projects", on_delete="NO ACTION"
        ),
        migrations.AddIndex(
            model_name="contentmatch",
            index=models.Index(
                condition=models.Q(("past_project__isnull", False)),
                fields=["company", "past_project"],
                name="idx_content_matches_past_project",
            ),
        ),
        migrations.AddField(
            model_name="section",
            name="source_past_projects",
            field=models.JSONField(
                blank=True,
                db_default=[],
                default=list,
                editable=False,
                verbose_name="source past projects",
            ),
        ),
    ]
