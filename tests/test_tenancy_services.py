"""Every service outside the admin takes the company it acts for and scopes inside it.

Each is called by company A with company B's ids, on purpose (as Zulip's tests do): the
answer is the one a missing id gets, and B's rows are unchanged.
"""

from __future__ import annotations

import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from config import storage
from library import services as library
from library.models import ContentBlock, ContentBlockVersion
from projects import services as review
from projects import workflow
from projects.models import ContentMatch, Project, Section
from rag.indexing import index_memoire
from rag.models import DocumentChunk, Memoire
from rag.search import search_passages
from rag.tasks import queue_indexing
from tenants.managers import CompanyRequired
from tests.documents import make_pdf
from tests.factories import (
    CompanyFactory,
    ContentBlockFactory,
    ContentMatchFactory,
    MemoireFactory,
    ProjectFactory,
    SectionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.RAG_EMBEDDING_BACKEND = "tests.fake_embeddings.HashingBackend"
    settings.RAG_EMBEDDING_OPTIONS = {}


@pytest.fixture
def a():
    return CompanyFactory()


@pytest.fixture
def b():
    return CompanyFactory()


def _values(model, pk):
    return model.objects.filter(pk=pk).values().get()


def test_workflow_moves_refuse_another_companys_project(a, b):
    theirs = ProjectFactory(company=b, status="draft")
    before = _values(Project, theirs.pk)
    for ids in ([theirs.pk], [uuid.uuid4()]):
        with pytest.raises(workflow.TransitionRefused) as refused:
            workflow.move(a, ids, "rc_analyzing")
        assert "Unknown project" in str(refused.value) or "Projet inconnu" in str(refused.value)
    # A list mixing one of A's projects with B's moves nothing either.
    mine = ProjectFactory(company=a, status="draft")
    with pytest.raises(workflow.TransitionRefused):
        workflow.move(a, [mine, theirs], "rc_analyzing")
    assert _values(Project, theirs.pk) == before
    assert Project.objects.get(pk=mine.pk).status == "draft"


def test_review_and_approval_ignore_another_companys_rows(a, b):
    reviewer = UserFactory(company=a)
    section = SectionFactory(project=ProjectFactory(company=b), reviewed=False)
    match = ContentMatchFactory(project=ProjectFactory(company=b), approved=False)
    sections, matches = _values(Section, section.pk), _values(ContentMatch, match.pk)

    assert review.mark_reviewed(a, [section.pk], user=reviewer) == 0
    assert review.mark_reviewed(a, [uuid.uuid4()], user=reviewer) == 0
    assert review.set_approval(a, [match.pk], True) == 0
    assert review.set_approval(a, [uuid.uuid4()], True) == 0
    assert (_values(Section, section.pk), _values(ContentMatch, match.pk)) == (sections, matches)


def test_block_lock_save_and_restore_answer_as_for_a_missing_block(a, b):
    editor = UserFactory(company=a)
    block = ContentBlockFactory(company=b, title="Grue v1")
    block.title = "Grue v2"
    library.save_block(b, block, user=block.created_by, expected_version=1)
    before = _values(ContentBlock, block.pk)

    for block_id in (block.pk, uuid.uuid4()):
        with pytest.raises(ContentBlock.DoesNotExist), transaction.atomic():
            library.lock_block_version(a, block_id, 2)
        with pytest.raises(ContentBlock.DoesNotExist):
            library.restore_version(a, block_id, 1, user=editor)
    forged = ContentBlock.objects.get(pk=block.pk)
    forged.title = "Écrit par A"
    with pytest.raises(ContentBlock.DoesNotExist):
        library.save_block(a, forged, user=editor, expected_version=2)
    assert _values(ContentBlock, block.pk) == before
    assert ContentBlockVersion.objects.filter(block=block).count() == 1


def test_memoir_indexing_refuses_another_companys_memoir(a, b):
    theirs = MemoireFactory(company=b, uploaded_by=None, filename="m.pdf")
    theirs.storage_path = default_storage.save(
        storage.memoir_path(b.pk, theirs.pk, "m.pdf"), ContentFile(make_pdf([["Titre", "Texte"]]))
    )
    theirs.save()
    before = _values(Memoire, theirs.pk)
    for memoire_id in (theirs.pk, uuid.uuid4()):
        with pytest.raises(Memoire.DoesNotExist):
            index_memoire(a, memoire_id)
    with pytest.raises(LookupError):
        queue_indexing(a, theirs)
    assert _values(Memoire, theirs.pk) == before
    assert not DocumentChunk.objects.exists()


@pytest.mark.parametrize("company", [None, ""])
def test_services_without_a_company_fail_closed(company):
    block = ContentBlockFactory()
    with pytest.raises(CompanyRequired):
        workflow.move(company, [ProjectFactory()], "rc_analyzing")
    with pytest.raises(CompanyRequired):
        review.mark_reviewed(company, [SectionFactory().pk], user=block.created_by)
    with pytest.raises(CompanyRequired):
        review.set_approval(company, [ContentMatchFactory().pk], True)
    with pytest.raises(CompanyRequired), transaction.atomic():
        library.lock_block_version(company, block.pk, 1)
    with pytest.raises(CompanyRequired):
        index_memoire(company, MemoireFactory().pk)
    with pytest.raises(CompanyRequired):
        search_passages(company, "sécurité")
