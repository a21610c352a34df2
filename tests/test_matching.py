"""Matching: library content proposed for every requirement of the RC analysis, as a
background job that moves the project rc_analyzed → matching → matched; expired and
inactive content and another company's content are never proposed."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from jobs.models import Job, JobStatus
from library.models import BlockType
from projects import matching
from projects.models import ContentMatch, ProjectStatus
from tests.factories import (
    CompanyFactory,
    ContentBlockFactory,
    RCAnalysisFactory,
    UserFactory,
)
from tests.jobs_support import run_queued_jobs

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _fast(settings, tmp_path):
    settings.RAG_EMBEDDING_BACKEND = "tests.fake_embeddings.HashingBackend"
    settings.RAG_EMBEDDING_OPTIONS = {}
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.JOBS_RETRY_BACKOFF_SECONDS = 0


@pytest.fixture(autouse=True)
def _empty_queue():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs; DELETE FROM procrastinate_workers")
    yield


def block(company, type_, title, content, **kwargs):
    metadata = kwargs.pop("metadata", None)
    extra = {"metadata": metadata} if metadata is not None else {}
    return ContentBlockFactory(
        company=company, type=type_, title=title, content=content, tags=[], **extra, **kwargs
    )


def cert(company, title, until, content="Certification qualité sécurité"):
    return block(
        company,
        BlockType.CERTIFICATION,
        title,
        content,
        metadata={
            "scheme": "mase",
            "number": "M-1",
            "body": "MASE",
            "valid_until": until.isoformat(),
        },
    )


@pytest.fixture
def member():
    return UserFactory()


@pytest.fixture
def analysis(member):
    row = RCAnalysisFactory(
        project__company=member.company,
        project__name="Rénovation de l'éclairage public",
        project__lot="Lot 2 — Éclairage public",
    )
    return row


@pytest.fixture
def library(member):
    company = member.company
    return {
        "method": block(
            company,
            BlockType.METHODOLOGY_TEMPLATE,
            "Méthodologie de rénovation d'éclairage public",
            "Phasage des travaux, dépose des candélabres, pose des luminaires LED.",
        ),
        "cv": block(
            company,
            BlockType.PERSON_CV,
            "CV — Paul Martin, chef de chantier éclairage",
            "Chef de chantier en éclairage public, habilitation électrique B2V.",
        ),
        "cv_painter": block(
            company,
            BlockType.PERSON_CV,
            "CV — Jean Dupuis, peintre",
            "Peintre en bâtiment, ravalement de façades.",
        ),
        "crane": block(
            company,
            BlockType.EQUIPMENT,
            "Nacelle élévatrice 16 m",
            "Nacelle pour la maintenance de l'éclairage public.",
        ),
        "mase": cert(company, "Certification MASE", TODAY + datetime.timedelta(days=400)),
        "mase_old": cert(company, "Certification MASE 2019", TODAY - datetime.timedelta(days=3)),
        "inactive": block(
            company,
            BlockType.METHODOLOGY_TEMPLATE,
            "Ancienne méthodologie d'éclairage public",
            "Phasage des travaux d'éclairage.",
            is_active=False,
        ),
    }


def proposed(project, requirement_id) -> list:
    return [
        b
        for m in ContentMatch.objects.filter(project=project, requirement_id=requirement_id)
        for b in m.matched_blocks or []
    ]


def test_requirements_are_the_analysis_ids_without_the_price(analysis):
    requirements = matching.requirements_of(analysis)
    assert [r.id for r in requirements] == ["C1", "C1.1", "C1.2", "R1", "R2"]
    by_id = {r.id: r for r in requirements}
    assert by_id["C1.2"].types == (BlockType.PERSON_CV, BlockType.EQUIPMENT)
    assert by_id["R1"].types == (BlockType.METHODOLOGY_TEMPLATE, BlockType.PROCEDURE)


def test_matching_proposes_blocks_by_type_and_words(member, analysis, library):
    project = analysis.project
    written = matching.run_matching(member.company, project, passages=False)
    assert written == ContentMatch.objects.filter(project=project).count() > 0
    means = proposed(project, "C1.2")
    assert library["cv"].pk in means and library["crane"].pk in means
    assert library["method"].pk not in means  # a methodology is no staff nor equipment
    # The electrician ranks above the painter for a public lighting project.
    cv_rows = {
        m.matched_blocks[0]: m
        for m in ContentMatch.objects.filter(project=project, requirement_id="C1.2")
    }
    if library["cv_painter"].pk in cv_rows:
        assert cv_rows[library["cv"].pk].confidence > cv_rows[library["cv_painter"].pk].confidence
    assert library["method"].pk in proposed(project, "R1")
    row = ContentMatch.objects.get(
        project=project, requirement_id="R1", matched_blocks=[library["method"].pk]
    )
    assert 0 < row.confidence <= 1
    assert (
        "méthodologie" in row.match_reason
        and str(BlockType.METHODOLOGY_TEMPLATE.label) in row.match_reason
    )


def test_expired_and_inactive_blocks_are_never_proposed(member, analysis, library):
    project = analysis.project
    # A certification valid today but no longer on the deadline is refused too.
    deadline_day = timezone.localdate(project.deadline)
    short = cert(
        member.company, "Certification MASE courte", deadline_day - datetime.timedelta(days=1)
    )
    analysis.required_sections = [
        *analysis.required_sections,
        {"id": "R3", "text": "les certifications qualité et sécurité MASE", "criterion": None},
    ]
    analysis.save()
    matching.run_matching(member.company, project, passages=False)
    everything = {b for m in ContentMatch.objects.filter(project=project) for b in m.matched_blocks}
    assert library["mase"].pk in proposed(project, "R3")
    assert not {library["mase_old"].pk, library["inactive"].pk, short.pk} & everything


def test_another_companys_blocks_are_never_proposed(member, analysis, library):
    other = CompanyFactory()
    foreign = block(
        other,
        BlockType.METHODOLOGY_TEMPLATE,
        "Méthodologie d'exécution de l'éclairage public",
        "Méthodologie d'exécution, phasage.",
    )
    matching.run_matching(member.company, analysis.project, passages=False)
    everything = {
        b for m in ContentMatch.objects.filter(project=analysis.project) for b in m.matched_blocks
    }
    assert foreign.pk not in everything and library["method"].pk in everything
    with pytest.raises(analysis.project.DoesNotExist):
        matching.run_matching(other, analysis.project, passages=False)


def test_a_rerun_replaces_pending_proposals_and_keeps_decided_ones(member, analysis, library):
    project = analysis.project
    matching.run_matching(member.company, project, passages=False)
    rows = ContentMatch.objects.filter(project=project)
    approved = rows.get(requirement_id="R1", matched_blocks=[library["method"].pk])
    approved.approved = True
    approved.save()
    rejected = rows.get(requirement_id="C1.2", matched_blocks=[library["crane"].pk])
    rejected.rejected = True
    rejected.save()
    pending_before = set(rows.filter(approved=False, rejected=False).values_list("pk", flat=True))
    matching.run_matching(member.company, project, passages=False)
    rows = ContentMatch.objects.filter(project=project)
    assert rows.filter(pk__in=[approved.pk, rejected.pk]).count() == 2
    assert not rows.filter(pk__in=pending_before).exists()
    # Neither the approved block nor the rejected one is proposed a second time.
    assert rows.filter(requirement_id="R1", matched_blocks=[library["method"].pk]).count() == 1
    assert rows.filter(requirement_id="C1.2", matched_blocks=[library["crane"].pk]).count() == 1


def test_the_job_moves_the_project_to_matched(member, analysis, library):
    project = analysis.project
    job = matching.queue_matching(member.company, project, user=member)
    project.refresh_from_db()
    assert project.status == ProjectStatus.MATCHING and job.kind == "matching"
    [done] = run_queued_jobs()
    assert done.status == JobStatus.SUCCEEDED, done.error
    project.refresh_from_db()
    assert project.status == ProjectStatus.MATCHED
    assert project.metadata["matching"]["status"] == "matched"
    assert ContentMatch.objects.filter(project=project).count() == done.result["rows"] > 0
    # Matching again is allowed from "matched".
    matching.queue_matching(member.company, project, user=member)
    run_queued_jobs()
    project.refresh_from_db()
    assert project.status == ProjectStatus.MATCHED


def test_matching_is_refused_before_the_rc_is_analysed(member, analysis):
    project = analysis.project
    project.status = ProjectStatus.DRAFT
    project.save()
    with pytest.raises(matching.MatchingRefused):
        matching.queue_matching(member.company, project)
    assert not Job.objects.filter(kind="matching").exists()


def test_a_failed_job_moves_the_project_back(member, analysis):
    project = analysis.project
    job = matching.queue_matching(member.company, project)
    analysis.delete()
    [done] = run_queued_jobs()
    assert done.status == JobStatus.FAILED
    project.refresh_from_db()
    assert project.status == ProjectStatus.RC_ANALYZED
    assert project.metadata["matching"]["error"]
    assert done.pk == job.pk


# --- block embeddings ----------------------------------------------------------------------


def test_saving_a_block_queues_its_embedding_for_its_company(member):
    from library import services as library_services
    from library.models import ContentBlock

    other = UserFactory()
    draft = ContentBlock(
        type=BlockType.PROCEDURE,
        title="Procédure de gestion des déchets",
        content="Tri des déchets à la source.",
        metadata={},
        created_by=member,
    )
    saved = library_services.save_block(member.company, draft, user=member)
    foreign = ContentBlockFactory(company=other.company, title="Déchets", content="Tri")
    [job] = Job.objects.filter(kind="block_embedding")
    assert (job.company_id, job.target_id) == (member.company.pk, saved.pk)
    [done] = run_queued_jobs()
    assert done.status == JobStatus.SUCCEEDED, done.error
    saved.refresh_from_db()
    foreign.refresh_from_db()
    assert saved.embedding_model == "test-hashing-64" and len(saved.embedding_384) == 384
    assert foreign.embedding_384 is None
    # Embedding another company's block through this company writes nothing.
    from library import embeddings

    assert embeddings.embed_blocks(member.company, [foreign.pk]) == 0


def test_embeddings_rank_blocks_and_are_in_the_reason(member, analysis, library):
    from library import embeddings
    from library.models import ContentBlock

    ids = list(ContentBlock.objects.filter(company=member.company).values_list("pk", flat=True))
    assert embeddings.embed_blocks(member.company, ids) == len(ids)
    matching.run_matching(member.company, analysis.project, passages=False)
    row = ContentMatch.objects.get(
        project=analysis.project, requirement_id="R1", matched_blocks=[library["method"].pk]
    )
    assert "sémantique" in row.match_reason or "semantic" in row.match_reason
    everything = {
        b for m in ContentMatch.objects.filter(project=analysis.project) for b in m.matched_blocks
    }
    assert not {library["mase_old"].pk, library["inactive"].pk} & everything


def test_evaluate_matching_prints_the_figures_and_no_expired_block():
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("evaluate_matching", "--lexical", stdout=out, stderr=StringIO())
    text = out.getvalue()
    assert "| **all** | 43 |" in text and "recall@5" in text
    assert "Matching on 103 blocks, 8 past projects, 43 requirements" in text
    assert "expired or inactive blocks proposed: 0" in text
    assert "non-referenceable past projects proposed: 0" in text
    assert "other company's blocks or past projects proposed: 0" in text


def _memoir(company, text: str):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from config import storage
    from rag.indexing import index_memoire
    from tests.factories import MemoireFactory
    from tests.fake_embeddings import HashingBackend

    memoire = MemoireFactory.build(company=company, filename="memoire.txt", uploaded_by=None)
    memoire.storage_path = default_storage.save(
        storage.memoir_path(company.pk, memoire.pk, "memoire.txt"), ContentFile(text.encode())
    )
    memoire.save()
    index_memoire(company, memoire.pk, backend=HashingBackend())
    return memoire


def test_memoir_passages_of_the_company_are_proposed(member, analysis):
    from rag.models import DocumentChunk

    text = (
        "Méthodologie d'exécution\n\nNotre méthodologie d'exécution des travaux d'éclairage "
        "public repose sur un phasage par rue et une mise en service progressive."
    )
    mine = _memoir(member.company, text)
    theirs = _memoir(CompanyFactory(), text)
    matching.run_matching(member.company, analysis.project)
    rows = ContentMatch.objects.filter(project=analysis.project, passage_chunk_id__isnull=False)
    chunks = DocumentChunk.objects.filter(pk__in=[r.passage_chunk_id for r in rows])
    assert rows.filter(requirement_id="R1").exists()
    assert {c.memoire_id for c in chunks} == {mine.pk}
    assert theirs.pk not in {c.memoire_id for c in chunks}
    row = rows.filter(requirement_id="R1").first()
    assert row.matched_blocks == [] and 0 <= row.confidence <= 1 and row.match_reason


def test_embed_blocks_fills_what_is_missing(member):
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    from tests.factories import PastProjectFactory

    first = ContentBlockFactory(company=member.company)
    second = ContentBlockFactory(company=member.company)
    past = PastProjectFactory(company=member.company)
    other = ContentBlockFactory()
    other_past = PastProjectFactory(company=other.company)
    out = StringIO()
    call_command("embed_blocks", "--company", str(member.company.pk), "--now", stdout=out)
    assert out.getvalue().startswith("2 block(s) and 1 past project(s) embedded")
    for row in (first, second, other, past, other_past):
        row.refresh_from_db()
    assert first.embedding_model == second.embedding_model == "test-hashing-64"
    assert past.embedding_model == "test-hashing-64" and len(past.embedding_384) == 384
    assert other.embedding_model is None and other_past.embedding_model is None
    call_command("embed_blocks", "--all", stdout=out)  # only the other company's are left
    assert Job.objects.filter(kind="block_embedding", target_id=other.pk).count() == 1
    assert Job.objects.filter(kind="block_embedding", target_id=other_past.pk).count() == 1
    # A past project embedded by another model is stale: embedded again.
    from library.models import PastProject

    PastProject.objects.filter(pk=past.pk).update(embedding_model="older-model")
    out = StringIO()
    call_command("embed_blocks", "--company", str(member.company.pk), "--now", stdout=out)
    assert out.getvalue().startswith("0 block(s) and 1 past project(s) embedded")
    with pytest.raises(CommandError):
        call_command("embed_blocks", "--company", "pas-un-id")


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("Moyens humains et matériels", ("staff", "equipment")),
        ("Composition et qualification de l'équipe", ("staff",)),
        ("Qualifications et certifications de l'entreprise", ("quality",)),
        ("Mesures d'hygiène et de sécurité", ("safety",)),
        ("Gestion des déchets de chantier", ("environment",)),
        ("Références de travaux similaires", ("references",)),
        ("Prix des prestations", ()),
    ],
)
def test_requirement_kinds(text, kinds):
    assert matching.requirement_kinds(text)[0] == kinds
