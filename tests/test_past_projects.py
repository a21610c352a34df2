"""Past projects in matching (issue 14) and in the memoir's references (issue 15): their
embedding computed by a job when saved, proposed for the requirements that call for
references (referenceable ones, of the company only), approved or rejected in one click
on the approval page or added by name, counted by the coverage, cited in the references
table with their provenance, and the migration that lets a match name one."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.db.models import RestrictedError
from django.urls import reverse
from django.utils import translation

from jobs.models import Job, JobStatus
from library import embeddings
from library import services as library_services
from library.models import BlockType, PastProject
from projects import coverage, matching
from projects.memoir import generation
from projects.models import ContentMatch, GenerationRequest, Section
from tests.admin_helpers import META, admin_client, form_data
from tests.factories import (
    CompanyFactory,
    ContentBlockFactory,
    ContentMatchFactory,
    PastProjectFactory,
    RCAnalysisFactory,
    UserFactory,
)
from tests.jobs_support import run_queued_jobs
from tests.memoir_support import memoir_project

pytestmark = pytest.mark.django_db

REFERENCES = {
    "id": "R3",
    "text": "les références de travaux similaires",
    "criterion": "C1.1",
    "source": None,
    "corrected": False,
}


@pytest.fixture(autouse=True)
def _fast(settings, tmp_path):
    settings.RAG_EMBEDDING_BACKEND = "tests.fake_embeddings.HashingBackend"
    settings.RAG_EMBEDDING_OPTIONS = {}
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.JOBS_RETRY_BACKOFF_SECONDS = 0
    settings.GENERATION_BACKEND = "assembly"


@pytest.fixture(autouse=True)
def _empty_queue():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs; DELETE FROM procrastinate_workers")


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
    row.required_sections = [*row.required_sections, REFERENCES]
    row.save()
    return row


def past_project(company, name, **fields):
    defaults = {
        "client": "Ville de Bayonne",
        "year": 2023,
        "project_type": "Éclairage public — rénovation",
        "description": "Remplacement de 1 200 luminaires d'éclairage public par des LED.",
        "techniques_used": ["Luminaires LED", "Télégestion"],
        "success_factors": ["Livrée dans les délais"],
        "metadata": {},
    }
    return PastProjectFactory(company=company, name=name, **{**defaults, **fields})


@pytest.fixture
def library(member):
    company = member.company
    return {
        "lighting": past_project(
            company,
            "Rénovation de l'éclairage public de Bayonne",
            metadata={"amount": 780000, "lot": "Lot 1 — Éclairage public"},
        ),
        "roads": past_project(
            company,
            "Réfection de la voirie du centre-bourg",
            project_type="Voirie",
            description="Réfection de chaussées et de trottoirs en enrobé.",
            techniques_used=["Enrobés"],
        ),
        "confidential": past_project(
            company,
            "Éclairage public du parking Océan",
            is_referenceable=False,
        ),
        "method": ContentBlockFactory(
            company=company,
            type=BlockType.METHODOLOGY_TEMPLATE,
            title="Méthodologie de rénovation d'éclairage public",
            content="Phasage des travaux, dépose des candélabres, pose des luminaires LED.",
            tags=[],
        ),
    }


def past_rows(project, requirement_id=None):
    rows = ContentMatch.objects.filter(project=project, past_project__isnull=False)
    if requirement_id:
        rows = rows.filter(requirement_id=requirement_id)
    return rows


# --- embeddings ------------------------------------------------------------------------------


def test_saving_a_past_project_queues_its_embedding_for_its_company(member):
    other = past_project(CompanyFactory(), "Éclairage public d'Anglet")
    draft = PastProject(name="Éclairage public de Biarritz", client="Ville de Biarritz", year=2022)
    saved = library_services.save_past_project(member.company, draft, user=member)
    assert saved.company_id == member.company.pk
    [job] = Job.objects.filter(kind="block_embedding")
    assert (job.company_id, job.target_type, job.target_id) == (
        member.company.pk,
        "library.pastproject",
        saved.pk,
    )
    [done] = run_queued_jobs()
    assert done.status == JobStatus.SUCCEEDED and done.result == {"embedded": 1}, done.error
    saved.refresh_from_db()
    other.refresh_from_db()
    assert saved.embedding_model == "test-hashing-64" and len(saved.embedding_384) == 384
    assert other.embedding_384 is None
    # Another company's past project is neither saved nor embedded through this company.
    assert embeddings.embed_past_projects(member.company, [other.pk]) == 0
    other.name = "Pris"
    with pytest.raises(PastProject.DoesNotExist):
        library_services.save_past_project(member.company, other, user=member)
    other.refresh_from_db()
    assert other.name == "Éclairage public d'Anglet"
    # A second save while the job waits reuses it; a save after it ran queues another.
    saved.description = "Remplacement des luminaires."
    library_services.save_past_project(member.company, saved, user=member)
    library_services.save_past_project(member.company, saved, user=member)
    assert Job.objects.filter(target_id=saved.pk, status=JobStatus.QUEUED).count() == 1


def test_the_admin_save_queues_the_embedding(member):
    client = admin_client(member)
    add = reverse("admin:library_pastproject_add")
    data = form_data(client.get(add), "pastproject_form")
    data.update(
        {"name": "Groupe scolaire de Lyon", "client": "Ville de Lyon", "year": "2023"},
        amount="4 200 000",
        lot="Lot 02",
    )
    response = client.post(add, data, **META)
    assert response.status_code == 302
    saved = PastProject.objects.get(name="Groupe scolaire de Lyon")
    assert saved.company_id == member.company.pk
    assert saved.metadata["amount"] == 4200000 and saved.metadata["lot"] == "Lot 02"
    [job] = Job.objects.filter(kind="block_embedding", target_id=saved.pk)
    assert job.company_id == member.company.pk and job.created_by_id == member.pk


def test_a_deleted_past_project_job_does_nothing(member):
    saved = library_services.save_past_project(
        member.company, PastProject(name="Éphémère"), user=member
    )
    PastProject.objects.filter(pk=saved.pk).delete()
    [done] = run_queued_jobs()
    assert done.status == JobStatus.SUCCEEDED and done.result == {"embedded": 0}


# --- matching --------------------------------------------------------------------------------


@pytest.mark.parametrize("embedded", [False, True])
def test_matching_proposes_referenceable_past_projects_for_references(
    member, analysis, library, embedded
):
    if embedded:
        ids = list(PastProject.objects.filter(company=member.company).values_list("pk", flat=True))
        assert embeddings.embed_past_projects(member.company, ids) == 3
    foreign = past_project(CompanyFactory(), "Rénovation de l'éclairage public de Pau")
    with translation.override("fr"):
        matching.run_matching(member.company, analysis.project, passages=False)
    rows = past_rows(analysis.project)
    proposed = set(rows.values_list("past_project_id", flat=True))
    assert library["lighting"].pk in proposed
    assert not {library["confidential"].pk, foreign.pk} & proposed
    # Only where references are asked for (not for the methodology, nor the means).
    assert set(rows.values_list("requirement_id", flat=True)) == {"R3"}
    row = rows.get(past_project=library["lighting"])
    assert row.matched_blocks == [] and row.passage_chunk_id is None
    assert 0 < row.confidence <= 1
    assert row.match_reason.startswith(
        "référence : Rénovation de l'éclairage public de Bayonne (Ville de Bayonne, 2023)"
    )
    assert "éclairage" in row.match_reason
    assert ("similarité sémantique" in row.match_reason) is embedded
    # The relevant past project ranks above the roads one, when that one is proposed.
    roads = rows.filter(past_project=library["roads"]).first()
    if roads is not None:
        assert roads.confidence < row.confidence


def test_a_rerun_keeps_decided_past_projects_and_does_not_propose_them_again(
    member, analysis, library
):
    project = analysis.project
    library["roads"].description = "Éclairage public et réfection de chaussées en enrobé."
    library["roads"].save()
    matching.run_matching(member.company, project, passages=False)
    approved = past_rows(project, "R3").get(past_project=library["lighting"])
    matching.approve(member.company, approved, user=member)
    rejected = past_rows(project, "R3").get(past_project=library["roads"])
    matching.reject(member.company, rejected, user=member)
    matching.run_matching(member.company, project, passages=False)
    rows = past_rows(project, "R3")
    assert rows.filter(pk__in=[approved.pk, rejected.pk]).count() == 2
    assert rows.filter(past_project=library["lighting"]).count() == 1
    assert rows.filter(past_project=library["roads"]).count() == 1


def test_a_past_project_a_proposed_reference_block_stands_for_is_proposed_once(
    member, analysis, library
):
    block = ContentBlockFactory(
        company=member.company,
        type=BlockType.PAST_PROJECT_REFERENCE,
        title="Référence — rénovation de l'éclairage public de Bayonne",
        content="Remplacement de 1 200 luminaires d'éclairage public par des LED.",
        tags=[],
        metadata={
            "client": "Ville de Bayonne",
            "year": 2023,
            "amount": 780000,
            "past_project_id": str(library["lighting"].pk),
        },
    )
    matching.run_matching(member.company, analysis.project, passages=False)
    r3 = ContentMatch.objects.filter(project=analysis.project, requirement_id="R3")
    assert r3.filter(matched_blocks=[block.pk]).exists()
    assert not r3.filter(past_project=library["lighting"]).exists()


# --- the database -----------------------------------------------------------------------------


def test_a_match_cannot_name_another_companys_past_project(member, analysis):
    foreign = past_project(CompanyFactory(), "Ailleurs")
    with pytest.raises(IntegrityError), transaction.atomic():
        ContentMatch.objects.create(
            project=analysis.project, requirement_id="R3", past_project=foreign
        )
    mine = past_project(member.company, "Ici")
    ContentMatch.objects.create(
        project=analysis.project, requirement_id="R3", past_project=mine, matched_blocks=[]
    )
    # Nor list blocks beside it (clean(), as a form checks it).
    from django.core.exceptions import ValidationError

    block = ContentBlockFactory(company=member.company)
    row = ContentMatch(
        project=analysis.project,
        requirement_id="R3",
        past_project=mine,
        matched_blocks=[block.pk],
    )
    with pytest.raises(ValidationError):
        row.full_clean()


def test_a_past_project_a_match_names_is_not_deleted(member, analysis):
    mine = past_project(member.company, "Groupe scolaire cité")
    ContentMatchFactory(project=analysis.project, requirement_id="R3", past_project=mine)
    with pytest.raises(RestrictedError):
        mine.delete()
    # The admin says so instead of failing.
    client = admin_client(member)
    response = client.get(reverse("admin:library_pastproject_delete", args=[mine.pk]))
    assert response.status_code == 200
    response = client.post(
        reverse("admin:library_pastproject_delete", args=[mine.pk]), {"post": "yes"}
    )
    assert response.status_code in (200, 302) and PastProject.objects.filter(pk=mine.pk).exists()
    # Deleting the project (its matches with it) still works.
    analysis.project.delete()
    mine.delete()


# --- the approval page ----------------------------------------------------------------------


def page(project):
    return reverse("admin:projects_project_matching", args=[project.pk])


def decide(project):
    return reverse("admin:projects_project_matching_decide", args=[project.pk])


def test_the_page_shows_past_projects_under_their_criterion_and_decides_in_one_click(
    member, analysis, library
):
    client = admin_client(member)
    match = ContentMatchFactory(
        project=analysis.project,
        requirement_id="R3",
        past_project=library["lighting"],
        match_reason="projet réalisé",
    )
    html = client.get(page(analysis.project)).content.decode()
    # R3 serves C1.1: shown in C1's group, under R3.
    assert html.index('id="req-R3"') < html.index(
        "Rénovation de l&#x27;éclairage public de Bayonne"
    )
    assert reverse("admin:library_pastproject_change", args=[library["lighting"].pk]) in html
    response = client.post(
        decide(analysis.project), {"match": match.pk, "decision": "approve"}, **META
    )
    assert response.status_code == 302
    match.refresh_from_db()
    assert match.approved and not match.rejected
    client.post(decide(analysis.project), {"match": match.pk, "decision": "reject"}, **META)
    match.refresh_from_db()
    assert match.rejected and not match.approved


def test_a_past_project_is_added_by_searching_its_name(member, analysis, library):
    client = admin_client(member)
    foreign = past_project(CompanyFactory(), "Rénovation de l'éclairage public de Pau")
    html = client.get(page(analysis.project), {"search": "éclairage", "requirement": "R3"})
    html = html.content.decode()
    assert str(library["lighting"].pk) in html
    assert str(library["confidential"].pk) not in html  # not referenceable
    assert str(foreign.pk) not in html
    response = client.post(
        decide(analysis.project),
        {"decision": "add", "requirement": "R3", "past_project": library["lighting"].pk},
    )
    assert response.status_code == 302
    row = ContentMatch.objects.get(project=analysis.project, requirement_id="R3")
    assert row.past_project_id == library["lighting"].pk and row.approved
    assert row.matched_blocks == []
    # Another company's, a non-referenceable or a malformed id: a message, nothing added.
    for value in (foreign.pk, library["confidential"].pk, "pas-un-id", ""):
        response = client.post(
            decide(analysis.project),
            {"decision": "add", "requirement": "C1.2", "past_project": value},
        )
        assert response.status_code == 302
    assert not ContentMatch.objects.filter(project=analysis.project, requirement_id="C1.2").exists()


def test_the_content_match_admin_shows_the_past_project_and_refuses_blocks_beside_it(
    member, analysis, library
):
    client = admin_client(member)
    match = ContentMatchFactory(
        project=analysis.project, requirement_id="R3", past_project=library["lighting"]
    )
    html = client.get(reverse("admin:projects_contentmatch_changelist")).content.decode()
    assert "Rénovation de l&#x27;éclairage public de Bayonne" in html
    url = reverse("admin:projects_contentmatch_change", args=[match.pk])
    response = client.post(
        url,
        {
            "project": analysis.project.pk,
            "requirement_id": "R3",
            "matched_blocks": str(library["method"].pk),
            "confidence": "0.5",
        },
    )
    assert response.status_code == 200
    assert "past project" in str(response.context["adminform"].form.errors["matched_blocks"])
    match.refresh_from_db()
    assert match.matched_blocks == []


# --- coverage ---------------------------------------------------------------------------------


def test_an_approved_past_project_covers_its_criterion(member, analysis, library):
    project = analysis.project
    match = ContentMatchFactory(
        project=project, requirement_id="R3", past_project=library["lighting"]
    )
    assert coverage.coverage(member.company, project).percent == 0
    matching.approve(member.company, match, user=member)
    result = coverage.coverage(member.company, project)
    subs = {c.id: c for c in result.lines[0].children}
    assert subs["C1.1"].approved == 1 and subs["C1.1"].percent_covered == 100
    # A past project that may no longer be cited covers nothing.
    PastProject.objects.filter(pk=library["lighting"].pk).update(is_referenceable=False)
    subs = {c.id: c for c in coverage.coverage(member.company, project).lines[0].children}
    assert subs["C1.1"].approved == 0


# --- generation and export -------------------------------------------------------------------


@pytest.fixture
def memoir():
    memoir = memoir_project()
    cited = past_project(
        memoir.company,
        "Gymnase des Tilleuls",
        client="M. et Mme Durand",
        year=2024,
        metadata={"amount": 2100000, "lot": "Lot 02 — Gros œuvre"},
    )
    left_out = past_project(memoir.company, "Opération confidentielle", client="SCI Océan")
    ContentMatchFactory(
        project=memoir.project, requirement_id="R1", approved=True, past_project=cited
    )
    ContentMatchFactory(
        project=memoir.project, requirement_id="R1", approved=False, past_project=left_out
    )
    memoir.cited = cited
    memoir.left_out = left_out
    return memoir


def test_the_references_table_cites_the_approved_past_projects_with_provenance(memoir):
    with translation.override("fr"):
        job = generation.queue_generation(
            memoir.company, memoir.project, user=memoir.user, now=True
        )
    assert job.status == JobStatus.SUCCEEDED, job.error
    section = Section.objects.get(project=memoir.project, section_type="C1.1")
    text = section.content
    assert "| Opération | Maître d’ouvrage | Année | Montant | Lot |" in text
    assert (
        "| Gymnase des Tilleuls | M. et Mme Durand | 2024 | 2\u00a0100\u00a0000 € HT "
        "| Lot 02 — Gros œuvre |" in text
    )
    # The reference block of the same section, after the more recent past project.
    assert text.index("Gymnase des Tilleuls") < text.index("Ville de Bayonne")
    assert "Opération confidentielle" not in text and "SCI Océan" not in text
    assert section.source_past_projects == [
        {
            "id": str(memoir.cited.pk),
            "name": "Gymnase des Tilleuls",
            "client": "M. et Mme Durand",
            "year": 2024,
        }
    ]
    row = GenerationRequest.objects.get(project=memoir.project, section_type="C1.1")
    assert [p["id"] for p in row.request_context["past_projects"]] == [str(memoir.cited.pk)]
    # The section's page lists it among its sources.
    html = admin_client(memoir.user).get(
        reverse("admin:projects_section_change", args=[section.pk])
    )
    assert "Gymnase des Tilleuls, M. et Mme Durand, 2024" in html.content.decode()
    # The other section cites none.
    assert (
        Section.objects.get(project=memoir.project, section_type="C1.2").source_past_projects == []
    )
    # The client's civility is the reference's own words, no invented person.
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("check_memoir_facts", "--company", str(memoir.company.pk), stdout=out)
    assert "0 fait(s) absent(s)" in out.getvalue()


def test_a_past_project_no_longer_referenceable_is_left_out(memoir):
    from projects.memoir import review

    with translation.override("fr"):
        generation.queue_generation(memoir.company, memoir.project, user=memoir.user, now=True)
    memoir.project.refresh_from_db()
    assert review.stale_sections(memoir.company, memoir.project) == []
    PastProject.objects.filter(pk=memoir.cited.pk).update(is_referenceable=False)
    # The section written with it is stale; written again, it no longer cites it.
    with translation.override("fr"):
        [stale] = review.stale_sections(memoir.company, memoir.project)
    assert stale.section.section_type == "C1.1"
    assert stale.reasons == ["« Gymnase des Tilleuls » ne peut plus être citée"]
    with translation.override("fr"):
        generation.queue_generation(memoir.company, memoir.project, user=memoir.user, now=True)
    section = Section.objects.get(project=memoir.project, section_type="C1.1")
    assert "Gymnase des Tilleuls" not in section.content and section.source_past_projects == []


def test_the_word_export_lists_past_projects_in_the_references(memoir):
    import io

    import docx
    from django.core.files.storage import default_storage

    from projects.memoir import export
    from projects.models import MemoirExport

    with translation.override("fr"):
        generation.queue_generation(memoir.company, memoir.project, user=memoir.user, now=True)
        job = export.queue_export(
            memoir.company, memoir.project, user=memoir.user, now=True, sources=True
        )
    assert job.status == JobStatus.SUCCEEDED, job.error
    row = MemoirExport.objects.get(pk=job.result["export"])
    with default_storage.open(row.storage_path, "rb") as handle:
        document = docx.Document(io.BytesIO(handle.read()))
    tables = [[[c.text for c in r.cells] for r in t.rows] for t in document.tables]
    references = [
        t for t in tables if t[0] == ["Opération", "Maître d’ouvrage", "Année", "Montant", "Lot"]
    ]
    # The section's table and the closing "Certifications and references" one.
    assert len(references) == 2
    for table in references:
        assert table[1][:3] == ["Gymnase des Tilleuls", "M. et Mme Durand", "2024"]
        assert not any("Opération confidentielle" in cell for r in table for cell in r)
    texts = [p.text for p in document.paragraphs]
    assert "Référence « Gymnase des Tilleuls »" in texts  # the annex of sources


# --- the migration ---------------------------------------------------------------------------


@pytest.mark.migrations
def test_the_migration_adds_the_past_project_of_matches_and_reverses(scratch_db):
    scratch_db.manage("migrate")
    columns = (
        "SELECT table_name, column_name FROM information_schema.columns WHERE "
        "(table_name, column_name) IN (('content_matches', 'past_project_id'), "
        "('sections', 'source_past_projects'), ('past_projects', 'embedding_384'), "
        "('past_projects', 'embedding_model')) ORDER BY 1, 2"
    )
    keys = (
        "SELECT conname FROM pg_constraint WHERE conname IN "
        "('content_matches_company_past_project_fk', 'past_projects_company_id_id_key') "
        "ORDER BY 1"
    )
    assert len(scratch_db.execute(columns)) == 4 and len(scratch_db.execute(keys)) == 2
    # A match of a past project and a match of a block, as the application writes them.
    scratch_db.manage(
        "shell",
        "-c",
        "from tests.factories import ContentMatchFactory, PastProjectFactory, ProjectFactory\n"
        "project = ProjectFactory()\n"
        "past = PastProjectFactory(company=project.company)\n"
        "ContentMatchFactory(project=project, requirement_id='R1', past_project=past)\n"
        "ContentMatchFactory(project=project, requirement_id='R2')\n",
    )
    scratch_db.manage("migrate", "library", "0010")  # projects.0011 goes first
    assert scratch_db.execute(columns) == [] and scratch_db.execute(keys) == []
    assert scratch_db.execute("SELECT count(*) FROM content_matches") == [(2,)]
    scratch_db.manage("migrate")
    assert len(scratch_db.execute(columns)) == 4 and len(scratch_db.execute(keys)) == 2
    assert scratch_db.execute(
        "SELECT count(*) FROM content_matches WHERE past_project_id IS NULL"
    ) == [(2,)]
