"""The factories of ``tests/factories.py`` build valid rows and keep tenancy consistent."""

from __future__ import annotations

import math

import pytest
from django.apps import apps
from django.contrib.auth.hashers import identify_hasher
from django.db.models import Model
from pgvector.django import CosineDistance

from audit.models import AuditLog
from library.models import ContentBlock
from projects.models import GenerationStatus
from rag.models import EMBEDDING_DIMENSIONS, DocumentChunk
from tenants.models import Company, Role, User
from tests import factories as f
from tests.factories import PROJECT_APPS

pytestmark = pytest.mark.django_db


def _name(factory_class: type) -> str:
    return factory_class.__name__


def companies_of(obj: Model) -> set:
    """Ids of every company ``obj`` reaches: through its foreign keys (recursively), the
    content block ids of its uuid arrays, and the plain uuid columns of the audit log."""
    if isinstance(obj, Company):
        return {obj.pk}
    found = set()
    for field in obj._meta.concrete_fields:
        if field.is_relation and (related := getattr(obj, field.name)) is not None:
            found |= companies_of(related)
    for array in ("source_blocks", "matched_blocks"):
        if block_ids := getattr(obj, array, None):
            blocks = ContentBlock.objects.filter(pk__in=block_ids)
            assert blocks.count() == len(block_ids), f"{array} names unknown blocks"
            found |= set(blocks.values_list("company_id", flat=True))
    if isinstance(obj, AuditLog):
        if obj.company_id:
            found.add(obj.company_id)
        if obj.user_id:
            found |= companies_of(User.objects.get(pk=obj.user_id))
    return found


def test_every_model_of_the_project_has_a_factory():
    models = {model for label in PROJECT_APPS for model in apps.get_app_config(label).get_models()}
    assert {factory._meta.model for factory in f.ALL_FACTORIES} == models


@pytest.mark.parametrize("factory_class", f.ALL_FACTORIES, ids=_name)
def test_build_makes_an_unsaved_object_without_touching_the_database(
    factory_class, django_assert_num_queries
):
    with django_assert_num_queries(0):
        obj = factory_class.build()
    assert isinstance(obj, factory_class._meta.model)
    assert obj._state.adding
    assert obj.pk is not None  # the Python-side uuid default


@pytest.mark.parametrize("factory_class", f.ALL_FACTORIES, ids=_name)
def test_create_saves_a_valid_row(factory_class):
    model = factory_class._meta.model
    obj = factory_class()

    saved = model.objects.get(pk=obj.pk)
    # Field validation, choices, and the model's CHECK/unique constraints.
    saved.full_clean()


@pytest.mark.parametrize("factory_class", f.ALL_FACTORIES, ids=_name)
def test_everything_a_factory_creates_belongs_to_one_company(factory_class):
    obj = factory_class()
    expected = 0 if factory_class is f.SuperuserFactory else 1
    assert len(companies_of(obj)) == expected


def test_create_batch_gives_unique_emails():
    users = f.UserFactory.create_batch(5, company=f.CompanyFactory())
    assert len({user.email.lower() for user in users}) == 5


def test_user_defaults_and_role_traits():
    user = f.UserFactory()
    assert (user.role, user.is_staff, user.is_superuser) == (Role.USER, True, False)
    assert user.company is not None
    assert f.UserFactory(admin=True).role == Role.ADMIN
    assert f.UserFactory(viewer=True).role == Role.VIEWER


def test_superuser_has_no_company():
    user = f.SuperuserFactory()
    assert user.company is None
    assert user.is_superuser
    assert user.role == Role.ADMIN


@pytest.mark.parametrize("factory_class", [f.UserFactory, f.SuperuserFactory], ids=_name)
def test_users_log_in_with_the_default_password(factory_class, client):
    user = factory_class()
    assert identify_hasher(user.password)  # stored hashed, never raw
    assert client.login(email=user.email, password=f.DEFAULT_PASSWORD)


def test_users_log_in_with_a_password_of_their_own(client):
    user = f.UserFactory(password="Un-autre-mot-de-passe-42")
    assert not client.login(email=user.email, password=f.DEFAULT_PASSWORD)
    assert client.login(email=user.email, password="Un-autre-mot-de-passe-42")


def test_rows_of_a_given_company_derive_their_users_from_it():
    company = f.CompanyFactory()
    block = f.ContentBlockFactory(company=company)
    stored = f.StoredFileFactory(company=company)
    project = f.ProjectFactory(company=company)
    memoire = f.MemoireFactory(company=company)

    assert block.created_by.company == company
    assert stored.uploaded_by.company == company
    assert project.created_by.company == company
    assert memoire.uploaded_by.company == company


def test_block_file_attaches_a_file_of_the_block_company():
    block = f.ContentBlockFactory()
    attached = f.BlockFileFactory(block=block)
    assert attached.file.company == block.company
    assert attached.file.uploaded_by == block.created_by


def test_reviewed_section_has_a_reviewer_of_the_project_company():
    section = f.SectionFactory(with_review=True)
    assert section.reviewed
    assert section.reviewed_at is not None
    assert section.reviewer.company == section.project.company
    assert f.SectionFactory().reviewer is None


def test_blocks_fill_the_uuid_arrays_of_sections_and_matches():
    company = f.CompanyFactory()
    blocks = f.ContentBlockFactory.create_batch(2, company=company)
    project = f.ProjectFactory(company=company)

    section = f.SectionFactory(project=project, blocks=blocks, generated=True)
    match = f.ContentMatchFactory(project=project, blocks=blocks)

    ids = [block.pk for block in blocks]
    assert section.source_blocks == ids
    assert section.generated_by_ai
    assert match.matched_blocks == ids
    assert companies_of(section) == companies_of(match) == {company.pk}


def test_generation_request_traits():
    completed = f.GenerationRequestFactory(completed=True)
    failed = f.GenerationRequestFactory(failed=True)

    assert completed.status == GenerationStatus.COMPLETED
    assert completed.generated_content
    assert completed.tokens_used > 0
    assert completed.completed_at is not None
    assert failed.status == GenerationStatus.FAILED
    assert failed.error_message


def test_audit_entry_names_its_user_and_company_or_none_for_the_system():
    user = f.UserFactory()
    entry = f.AuditLogFactory(user=user)
    system = f.AuditLogFactory(user=None)

    assert (entry.user_id, entry.company_id) == (user.pk, user.company_id)
    assert (system.user_id, system.company_id) == (None, None)


def test_document_chunk_embedding_is_optional():
    assert f.DocumentChunkFactory().embedding is None

    chunk = f.DocumentChunkFactory(embedded=True)
    embedding = DocumentChunk.objects.get(pk=chunk.pk).embedding
    assert len(embedding) == EMBEDDING_DIMENSIONS
    assert math.isclose(math.fsum(x * x for x in embedding), 1.0, rel_tol=1e-4)


def test_embedded_chunks_are_searchable_by_cosine_distance():
    memoire = f.MemoireFactory()
    chunks = f.DocumentChunkFactory.create_batch(3, memoire=memoire, embedded=True)
    query = chunks[1].embedding

    nearest = DocumentChunk.objects.order_by(CosineDistance("embedding", query)).first()
    assert nearest == chunks[1]


def test_random_embedding_is_reproducible():
    assert f.random_embedding(7) == f.random_embedding(7)
    assert f.random_embedding(7) != f.random_embedding(8)
