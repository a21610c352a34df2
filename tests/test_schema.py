"""The database enforces the contract by itself: enum types, ON DELETE rules, CHECK
constraints and case-insensitive emails hold for plain SQL, not only for the ORM."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction

from config.db.enums import EnumField, database_enum_values
from library.models import BlockType, ContentBlock
from projects.models import ContentMatch, GenerationRequest, Project, RCAnalysis, Section
from rag.models import DocumentChunk, Memoire
from tenants.models import Company, User

pytestmark = pytest.mark.django_db

CONTRACT_ENUMS = {
    "user_role_enum": ["admin", "user", "viewer"],
    "project_status_enum": [
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
    "content_block_type_enum": [
        "company-profile",
        "person-cv",
        "equipment",
        "procedure",
        "certification",
        "methodology-template",
        "past-project-reference",
    ],
    "generation_status_enum": ["pending", "in_progress", "completed", "failed"],
    "file_relationship_enum": ["main-file", "photo", "certificate", "datasheet"],
}


def _enum_fields():
    return [
        field
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, EnumField)
    ]


def test_python_choices_match_the_database_enum_types():
    fields = _enum_fields()
    assert {f.enum_type for f in fields} == set(CONTRACT_ENUMS)
    for field in fields:
        choices = [value for value, _label in field.choices]
        assert choices == CONTRACT_ENUMS[field.enum_type], field
        assert database_enum_values(connection, field.enum_type) == choices, field


def _sql(query: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall() if cursor.description else None


def _company_with_everything(name: str) -> tuple[Company, User]:
    company = Company.objects.create(name=name)
    user = User.objects.create_user(f"{name.lower()}@example.com", "x", company=company)
    block = ContentBlock.objects.create(
        company=company, type=BlockType.EQUIPMENT, title="Grue", content="…", created_by=user
    )
    project = Project.objects.create(company=company, name="Collège", created_by=user)
    Section.objects.create(project=project, section_type="m", title="M", reviewer=user)
    RCAnalysis.objects.create(project=project, rc_file_url="rc.pdf")
    ContentMatch.objects.create(project=project, requirement_id="R1", matched_blocks=[block.id])
    GenerationRequest.objects.create(project=project, section_type="m")
    memoire = Memoire.objects.create(company=company, filename="m.pdf", storage_path="m.pdf")
    DocumentChunk.objects.create(memoire=memoire, content="Sécurité")
    return company, user


def test_deleting_a_company_in_plain_sql_removes_its_data_only():
    doomed, _ = _company_with_everything("Doomed")
    kept, _ = _company_with_everything("Kept")

    _sql("DELETE FROM companies WHERE id = %s", [doomed.id])

    for model in (User, ContentBlock, Project, Memoire):
        assert not model.objects.filter(company=doomed.id).exists(), model
        assert model.objects.filter(company=kept).exists(), model
    for model in (Section, RCAnalysis, ContentMatch, GenerationRequest):
        assert model.objects.count() == 1, model
    assert DocumentChunk.objects.count() == 1


def test_deleting_a_user_who_created_content_blocks_is_refused_in_plain_sql():
    _, user = _company_with_everything("Acme")
    with pytest.raises(IntegrityError), transaction.atomic():
        _sql("DELETE FROM users WHERE id = %s", [user.id])
    assert User.objects.filter(pk=user.pk).exists()


def test_deleting_a_user_without_content_sets_their_references_to_null():
    company, _creator = _company_with_everything("Acme")
    reviewer = User.objects.create_user("reviewer@example.com", "x", company=company)
    Section.objects.update(reviewer=reviewer)
    Project.objects.update(created_by=reviewer)
    Memoire.objects.update(uploaded_by=reviewer)

    _sql("DELETE FROM users WHERE id = %s", [reviewer.id])

    assert Section.objects.get().reviewer_id is None
    assert Project.objects.get().created_by_id is None
    assert Memoire.objects.get().uploaded_by_id is None


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE sections SET quality_score = 1.5",
        "UPDATE sections SET quality_score = -0.1",
        "UPDATE content_matches SET confidence = 2",
        "UPDATE rc_analysis SET confidence_score = -1",
        "UPDATE generation_requests SET quality_score = 1.01",
        "UPDATE generation_requests SET tokens_used = -1",
        "UPDATE generation_requests SET cost_usd = -0.000001",
        "UPDATE generation_requests SET latency_seconds = -3",
        "UPDATE content_blocks SET version = 0",
        "UPDATE section_templates SET usage_count = -1",
        "UPDATE files SET size_bytes = -1",
    ],
)
def test_check_constraints_refuse_impossible_values(statement):
    company, user = _company_with_everything("Acme")
    from library.models import SectionTemplate, StoredFile

    SectionTemplate.objects.create(
        company=company, section_type="m", title="T", template_content="{x}"
    )
    StoredFile.objects.create(company=company, filename="a.pdf", storage_url="a", uploaded_by=user)
    with pytest.raises(IntegrityError), transaction.atomic():
        _sql(statement)


def test_check_constraints_accept_the_bounds():
    _company_with_everything("Acme")
    _sql("UPDATE sections SET quality_score = 1")
    _sql("UPDATE content_matches SET confidence = 0")
    _sql("UPDATE generation_requests SET tokens_used = 0, cost_usd = 0, latency_seconds = 0")


def test_database_defaults_serve_rows_inserted_by_other_programs():
    company_id = _sql("INSERT INTO companies (name) VALUES ('Brut') RETURNING id")[0][0]
    [(settings, created)] = _sql(
        "SELECT settings = '{}'::jsonb, created_at IS NOT NULL FROM companies WHERE id = %s",
        [company_id],
    )
    assert (settings, created) == (True, True)
    user_id = _sql(
        "INSERT INTO users (company_id, email, password_hash, full_name) "
        "VALUES (%s, 'brut@example.com', '!', 'Brut') RETURNING id",
        [company_id],
    )[0][0]
    [(role, active)] = _sql("SELECT role::text, is_active FROM users WHERE id = %s", [user_id])
    assert (role, active) == ("user", True)
    project_id = _sql(
        "INSERT INTO projects (company_id, name) VALUES (%s, 'P') RETURNING id", [company_id]
    )[0][0]
    assert _sql(
        "SELECT status::text, metadata = '{}'::jsonb FROM projects WHERE id = %s", [project_id]
    ) == [("draft", True)]


def test_emails_are_unique_case_insensitively_and_log_in_by_email():
    company = Company.objects.create(name="Acme")
    User.objects.create_user("Marie.Dupont@Example.com", "s3cret-pass", company=company)
    with pytest.raises(IntegrityError), transaction.atomic():
        _sql(
            "INSERT INTO users (company_id, email, password_hash, full_name) "
            "VALUES (%s, 'MARIE.DUPONT@example.com', '!', 'Doublon')",
            [company.id],
        )
    from django.contrib.auth import authenticate

    assert authenticate(username="marie.dupont@EXAMPLE.com", password="s3cret-pass") is not None
    assert authenticate(username="marie.dupont@example.com", password="wrong") is None


def test_only_platform_superusers_may_have_no_company():
    User.objects.create_superuser("ops@example.com", "x", full_name="Ops")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("orphan@example.com", "x")


def test_index_count_and_no_index_duplicates_another():
    [(count,)] = _sql("SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'")
    assert count >= 25
    rows = _sql(
        "SELECT indrelid::regclass::text, indkey::text, indclass::text, "
        "coalesce(pg_get_expr(indexprs, indrelid), ''), "
        "coalesce(pg_get_expr(indpred, indrelid), ''), count(*) FROM pg_index "
        "JOIN pg_class c ON c.oid = indexrelid WHERE c.relnamespace = 'public'::regnamespace "
        "GROUP BY 1, 2, 3, 4, 5 HAVING count(*) > 1"
    )
    assert rows == []
