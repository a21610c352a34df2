"""Generation of a memoir's sections (issue 15): the offline assembly backend, facts
rendered from typed blocks only, the fact check of a model's text, jobs and statuses,
provenance, versions, budgets, review rules and stale sections."""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal

import pytest
from django.utils import translation

from jobs.models import Job, JobKind, JobStatus
from library import services as library_services
from projects import workflow
from projects.memoir import generation, review
from projects.models import (
    GenerationRequest,
    GenerationStatus,
    Project,
    ProjectStatus,
    Section,
    SectionVersion,
)
from tests.factories import CompanyFactory, SectionFactory, SuperuserFactory
from tests.fake_llm import FakeLLMServer, anthropic_message
from tests.jobs_support import run_queued_jobs
from tests.memoir_support import memoir_project

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _french(settings):
    settings.GENERATION_BACKEND = "assembly"
    with translation.override("fr"):
        yield


@pytest.fixture
def memoir():
    return memoir_project()


def _generate(memoir, **kwargs):
    return generation.queue_generation(
        memoir.company, memoir.project, user=memoir.user, now=True, **kwargs
    )


def _sections(project):
    return {s.section_type: s for s in Section.objects.filter(project=project)}


# --- the assembly backend ------------------------------------------------------------------


def test_assembly_writes_one_section_per_technical_criterion_in_rc_order(memoir):
    job = _generate(memoir)
    assert job.status == JobStatus.SUCCEEDED, job.error
    memoir.project.refresh_from_db()
    assert memoir.project.status == ProjectStatus.GENERATED
    sections = list(Section.objects.filter(project=memoir.project).order_by("order_num"))
    # C2 (the price) gets no section.
    assert [(s.section_type, s.title, s.order_num) for s in sections] == [
        ("C1.1", "Méthodologie", 1),
        ("C1.2", "Moyens humains et matériels", 2),
    ]
    method = sections[0].content
    assert "Construction du gymnase Jean Moulin" in method and "Commune d'Anglet" in method
    # The block's placeholder is filled from the project.
    assert "Le bétonnage des voiles de Construction du gymnase Jean Moulin" in method
    assert "Ville de Bayonne" in method and "2023" in method


def test_fact_tables_come_from_approved_valid_facts_only(memoir):
    _generate(memoir)
    text = _sections(memoir.project)["C1.2"].content
    # Moyens humains: name, role, experience, valid qualifications.
    assert "| Marc Dubois | Conducteur de travaux | 18 " in text
    assert "SST" in text
    # Moyens matériels: capacity and inspection validity.
    assert "Grue à tour Potain MDT 219 | 2 | 10 t |" in text and "30/06/2031" in text
    # Only the valid certification, with its number and validity.
    assert "QB-2112-77" in text and "01/01/2031" in text
    assert "MASE-0042" not in text and "MASE" not in text
    # Nothing of the content not approved.
    everything = "\n".join(s.content for s in Section.objects.filter(project=memoir.project))
    assert "Sophie Martin" not in everything
    assert "ENV-998877" not in everything and "14001" not in everything


def test_each_run_records_provenance_and_pins_block_versions(memoir):
    _generate(memoir)
    section = _sections(memoir.project)["C1.2"]
    # The expired certification, approved with the others, is no source of the text.
    assert section.source_versions == {
        str(b.pk): b.version for b in (memoir.cv, memoir.equipment, memoir.qualibat)
    }
    assert set(section.source_blocks) == {memoir.cv.pk, memoir.equipment.pk, memoir.qualibat.pk}
    row = GenerationRequest.objects.get(project=memoir.project, section_type="C1.2")
    assert row.status == GenerationStatus.COMPLETED
    assert row.model_used == "assembly-1" and row.tokens_used == 0
    ctx = row.request_context
    assert ctx["provider"] == "assembly"
    assert {b["id"]: b["version"] for b in ctx["blocks"]} == section.source_versions
    assert ctx["output_sha256"] == hashlib.sha256(section.content.encode()).hexdigest()
    assert len(ctx["prompt_sha256"]) == 64
    assert ctx["params"] == {"backend": "assembly", "left_out": []}
    assert ctx["chunks"] == []


def test_assembly_is_deterministic(memoir):
    _generate(memoir)
    first = {k: s.content for k, s in _sections(memoir.project).items()}
    _generate(memoir)
    assert {k: s.content for k, s in _sections(memoir.project).items()} == first


def test_a_section_template_is_filled_from_project_and_company(memoir):
    from tests.factories import SectionTemplateFactory

    SectionTemplateFactory(
        company=memoir.company,
        section_type="methodologie",
        title="Méthodologie d'exécution",
        template_content="{entreprise} réalise {nom_projet} à {lieu} ; {inconnu}.",
        placeholders={"inconnu": "le planning"},
    )
    _generate(memoir)
    text = _sections(memoir.project)["C1.1"].content
    assert "Bâtiments du Sud-Ouest réalise Construction du gymnase Jean Moulin à Anglet" in text
    assert "le planning" in text  # left for the reviewer, with its description


# --- jobs, statuses, versions ---------------------------------------------------------------


def test_queued_generation_moves_the_project_by_itself(memoir):
    job = generation.queue_generation(memoir.company, memoir.project, user=memoir.user)
    memoir.project.refresh_from_db()
    assert memoir.project.status == ProjectStatus.GENERATING
    assert job.kind == JobKind.GENERATION and job.status == JobStatus.QUEUED
    run_queued_jobs()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert job.progress_done == job.progress_total == 2
    assert job.result["sections"] == 2
    memoir.project.refresh_from_db()
    assert memoir.project.status == ProjectStatus.GENERATED


def test_generation_is_refused_before_matching_and_for_another_company(memoir):
    memoir.project.status = ProjectStatus.RC_ANALYZED
    memoir.project.save()
    with pytest.raises(generation.GenerationNotAllowed):
        generation.queue_generation(memoir.company, memoir.project)
    with pytest.raises(Project.DoesNotExist):
        generation.queue_generation(CompanyFactory(), memoir.project)
    assert not Job.objects.filter(kind=JobKind.GENERATION).exists()


def test_rerunning_a_section_keeps_the_previous_text_as_a_version_with_a_diff(memoir):
    _generate(memoir)
    section = _sections(memoir.project)["C1.1"]
    review.edit_section(
        memoir.company, section.pk, content="Texte revu à la main.", user=memoir.user
    )
    _generate(memoir, criteria=["C1.1"])
    section.refresh_from_db()
    versions = list(SectionVersion.objects.filter(section=section).order_by("version"))
    assert [v.reason for v in versions] == ["edit", "generation"]
    assert versions[-1].content == "Texte revu à la main."
    assert versions[-1].company_id == memoir.company.pk
    diff = review.diff(section)
    assert "-Texte revu à la main." in diff and "+" in diff


# --- the llm backend, the fact check and the budget -------------------------------------------


@pytest.fixture
def llm(settings):
    with FakeLLMServer() as server:
        settings.GENERATION_BACKEND = "llm"
        settings.LLM_PROVIDER = "anthropic"
        settings.LLM_BASE_URL = server.url
        settings.LLM_API_KEY = "sk-test"
        settings.LLM_MODEL = ""
        settings.LLM_MAX_RETRIES = 0
        settings.LLM_MAX_OUTPUT_TOKENS = 1000
        yield server


def test_llm_prose_is_kept_with_the_tables_rendered_by_code(memoir, llm):
    llm.reply(
        anthropic_message("La méthodologie suit la procédure de bétonnage."),
        anthropic_message("Le chantier est certifié Qualibat et piloté par Marc Dubois."),
    )
    job = _generate(memoir)
    assert job.status == JobStatus.SUCCEEDED, job.error
    text = _sections(memoir.project)["C1.2"].content
    assert text.startswith("Le chantier est certifié Qualibat")
    assert "| Marc Dubois | Conducteur de travaux |" in text
    row = GenerationRequest.objects.get(project=memoir.project, section_type="C1.2")
    assert row.tokens_used == 1500 and row.cost_usd > 0
    assert row.request_context["input_tokens"] == 1200
    assert "Moyens humains" in llm.received[1].body["messages"][0]["content"]


@pytest.mark.parametrize(
    "invented,named",
    [
        ("Nous sommes certifiés ISO 14001 depuis 2015.", "ISO 14001"),
        ("Mme Sophie Martin encadre les compagnons.", "Sophie Martin"),
        ("Le chef de chantier, M. Bernard Lefèvre, est présent.", "Bernard Lefèvre"),
        ("Notre certificat MASE garantit la sécurité.", "MASE"),
    ],
)
def test_fact_check_refuses_a_certification_or_person_absent_from_approved_content(
    memoir, llm, invented, named
):
    llm.reply(anthropic_message("Texte sans fait."), anthropic_message(invented))
    job = _generate(memoir)
    assert job.status == JobStatus.FAILED
    assert named in job.error and "Moyens humains et matériels" in job.error
    failed = GenerationRequest.objects.get(project=memoir.project, section_type="C1.2")
    assert failed.status == GenerationStatus.FAILED and named in failed.error_message
    assert failed.tokens_used == 1500  # the call was made and is counted
    assert "C1.2" not in _sections(memoir.project)
    memoir.project.refresh_from_db()
    assert memoir.project.status == ProjectStatus.MATCHED


def test_a_run_over_the_monthly_budget_is_refused_before_calling_the_provider(memoir, llm):
    memoir.company.settings = {"generation_budget": {"monthly_tokens": 5000}}
    memoir.company.save()
    from tests.factories import GenerationRequestFactory

    GenerationRequestFactory(project=memoir.project, completed=True, tokens_used=4800)
    job = _generate(memoir)
    assert job.status == JobStatus.FAILED
    assert "budget" in job.error.lower() and "Bâtiments du Sud-Ouest" in job.error
    assert "4800" in job.error and "5000" in job.error
    assert llm.received == []
    assert Section.objects.filter(project=memoir.project).count() == 0


def test_a_cost_budget_is_checked_too(memoir, llm):
    memoir.company.settings = {"generation_budget": {"monthly_cost_usd": "0.01"}}
    memoir.company.save()
    job = _generate(memoir)
    assert job.status == JobStatus.FAILED and "USD" in job.error
    assert llm.received == []


# --- review rules -----------------------------------------------------------------------------


def test_an_edit_after_review_clears_it_and_keeps_a_version(memoir):
    section = SectionFactory(project=memoir.project, with_review=True, content="Premier texte.")
    review.edit_section(memoir.company, section.pk, content="Second texte.", user=memoir.user)
    section.refresh_from_db()
    assert section.content == "Second texte." and not section.reviewed
    assert section.reviewer is None
    assert SectionVersion.objects.get(section=section).content == "Premier texte."
    # Saving the same text again keeps no new version.
    review.edit_section(memoir.company, section.pk, content="Second texte.", user=memoir.user)
    assert SectionVersion.objects.filter(section=section).count() == 1


def test_another_company_cannot_edit_a_section(memoir):
    section = SectionFactory(project=memoir.project)
    with pytest.raises(Section.DoesNotExist):
        review.edit_section(CompanyFactory(), section.pk, content="x")


def test_completed_only_when_every_section_is_reviewed_submitted_only_with_a_document(memoir):
    project = memoir.project
    Project.objects.filter(pk=project.pk).update(status=ProjectStatus.REVIEWING)
    done = SectionFactory(project=project, with_review=True)
    todo = SectionFactory(project=project)
    with pytest.raises(workflow.TransitionRefused, match="Construction du gymnase"):
        workflow.move(memoir.company, project, ProjectStatus.COMPLETED)
    project.refresh_from_db()
    assert project.status == ProjectStatus.REVIEWING
    from projects.services import mark_reviewed

    mark_reviewed(memoir.company, [todo], user=memoir.user)
    assert workflow.move(memoir.company, project, ProjectStatus.COMPLETED) == 1
    with pytest.raises(workflow.TransitionRefused):
        workflow.move(memoir.company, project, ProjectStatus.SUBMITTED)
    Project.objects.filter(pk=project.pk).update(final_document_url="/admin/x/download/")
    assert workflow.move(memoir.company, project, ProjectStatus.SUBMITTED) == 1
    assert done.pk


def test_a_project_without_sections_cannot_be_completed(memoir):
    Project.objects.filter(pk=memoir.project.pk).update(status=ProjectStatus.REVIEWING)
    with pytest.raises(workflow.TransitionRefused):
        workflow.move(memoir.company, memoir.project, ProjectStatus.COMPLETED)


def test_a_submitted_projects_sections_are_frozen_for_everyone(memoir):
    from tests.admin_helpers import admin_client, change_form

    section = SectionFactory(project=memoir.project, with_review=True, content="Envoyé.")
    Project.objects.filter(pk=memoir.project.pk).update(status=ProjectStatus.SUBMITTED)
    with pytest.raises(review.SectionFrozen):
        review.edit_section(memoir.company, section.pk, content="Changé.")
    with pytest.raises(generation.GenerationNotAllowed):
        generation.queue_generation(memoir.company, memoir.project)
    for user in (memoir.user, SuperuserFactory()):
        client = admin_client(user)
        from django.urls import reverse

        url = reverse("admin:projects_section_change", args=[section.pk])
        page = client.get(url)
        assert page.status_code == 200
        assert 'name="content"' not in page.content.decode()
        client.post(url, {"title": "Autre", "content": "Changé."})
        section.refresh_from_db()
        assert section.content == "Envoyé." and section.reviewed
        project_url = reverse("admin:projects_project_change", args=[memoir.project.pk])
        assert 'name="final_document_url"' not in client.get(project_url).content.decode()
    assert change_form  # the helper module is importable for the admin tests


def test_editing_or_expiring_a_source_block_marks_the_section_stale(memoir):
    _generate(memoir)
    assert review.stale_sections(memoir.company, memoir.project) == []
    block = memoir.procedure
    block.content = "Nouvelle procédure."
    library_services.save_block(memoir.company, block, user=memoir.user)
    stale = review.stale_sections(memoir.company, memoir.project)
    assert [s.section.section_type for s in stale] == ["C1.1"]
    assert "Procédure de bétonnage" in stale[0].reasons[0]
    # An equipment item whose inspection falls due before the deadline.
    equipment = memoir.equipment
    equipment.metadata = {
        **equipment.metadata,
        "inspections": [{"kind": "periodic", "next_on": "2021-01-01", "mandatory": True}],
    }
    library_services.save_block(memoir.company, equipment, user=memoir.user)
    stale = {s.section.section_type for s in review.stale_sections(memoir.company, memoir.project)}
    assert stale == {"C1.1", "C1.2"}


def test_spend_is_counted_per_month_for_the_company_only(memoir):
    from projects.memoir import budget
    from tests.factories import GenerationRequestFactory

    GenerationRequestFactory(project=memoir.project, completed=True, tokens_used=100)
    GenerationRequestFactory(completed=True, tokens_used=999)  # another company
    assert budget.spent(memoir.company).tokens == 100
    assert budget.spent(memoir.company).cost_usd == Decimal("0.025")


# --- memoir passages ------------------------------------------------------------------------


def _memoir_chunks(company, texts: list[str]):
    """Chunks of a past memoir, embedded by the tests' hashing backend."""
    from rag.chunking import embedded_text
    from rag.embeddings import pad
    from rag.models import DocumentChunk
    from tests.factories import MemoireFactory
    from tests.fake_embeddings import HashingBackend

    backend = HashingBackend()
    memoire = MemoireFactory(company=company, filename="gymnase-2021.pdf", indexed=True)
    for index, text in enumerate(texts):
        DocumentChunk.objects.create(
            memoire=memoire,
            content=text,
            metadata={"embedding_model": backend.model_name, "page": index + 1},
            embedding=pad(backend._vector(embedded_text(text, None, None))),
        )
    return memoire


def test_the_best_memoir_passages_are_used_and_recorded_without_unapproved_facts(
    settings, tmp_path, memoir
):
    from rag.models import DocumentChunk

    settings.RAG_EMBEDDING_BACKEND = "tests.fake_embeddings.HashingBackend"
    settings.RAG_EMBEDDING_OPTIONS = {}
    settings.RAG_SIMILARITY_FLOOR = 0.0
    settings.GENERATION_PASSAGES = 2
    _memoir_chunks(
        memoir.company,
        [
            "Méthodologie d'exécution du gros œuvre : phasage des voiles, rotation des "
            "banches et contrôle du bétonnage par le conducteur de travaux.",
            "Méthodologie d'exécution : Mme Sophie Martin encadre le phasage des voiles.",
            "Méthodologie d'exécution certifiée ISO 14001 pour le phasage des voiles.",
        ],
    )
    assert DocumentChunk.objects.filter(company=memoir.company).exists()
    _generate(memoir)
    section = _sections(memoir.project)["C1.1"]
    assert "rotation des banches" in section.content
    assert "Sophie Martin" not in section.content and "14001" not in section.content
    row = GenerationRequest.objects.get(project=memoir.project, section_type="C1.1")
    chunks = row.request_context["chunks"]
    assert chunks and all(c["score"] > 0 and c["memoire"] == "gymnase-2021.pdf" for c in chunks)
    used = set(
        DocumentChunk.objects.filter(pk__in=[c["chunk"] for c in chunks]).values_list(
            "content", flat=True
        )
    )
    assert all("Sophie" not in text and "14001" not in text for text in used)
    assert section.source_passages == chunks


# --- the check of every written section ------------------------------------------------------


def test_check_memoir_facts_counts_the_facts_absent_from_approved_content(memoir):
    import io

    from django.core.management import call_command

    _generate(memoir)
    out = io.StringIO()
    call_command("check_memoir_facts", stdout=out)
    assert "Total : 2 sections vérifiées, 0 fait(s)" in out.getvalue()
    section = _sections(memoir.project)["C1.1"]
    Section.objects.filter(pk=section.pk).update(
        content=section.content + "\n\nNotre certification ISO 14001 et M. Lefèvre."
    )
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("check_memoir_facts", "--company", memoir.company.name, stdout=out)
    assert exit_.value.code == 1
    assert "2 fait(s) absent(s)" in out.getvalue() and "Lefèvre" in out.getvalue()


# --- the admin -----------------------------------------------------------------------------


def test_generation_requests_show_this_months_spend_against_the_budget(memoir):
    from django.urls import reverse

    from tests.admin_helpers import admin_client
    from tests.factories import GenerationRequestFactory

    memoir.company.settings = {"generation_budget": {"monthly_tokens": 4000}}
    memoir.company.save()
    GenerationRequestFactory(project=memoir.project, completed=True, tokens_used=4500)
    other = GenerationRequestFactory(completed=True, tokens_used=7)
    page = admin_client(memoir.user).get(reverse("admin:projects_generationrequest_changelist"))
    html = page.content.decode()
    assert "month-budgets" in html and "4000" in html and "4500" in html
    assert 'class="errornote month-budget"' in html  # over the budget
    assert other.project.company.name not in html


def test_an_admin_edit_keeps_a_version_and_clears_the_review(memoir):
    from django.urls import reverse

    from tests.admin_helpers import admin_client, form_data

    _generate(memoir)
    section = _sections(memoir.project)["C1.1"]
    from projects.services import mark_reviewed

    mark_reviewed(memoir.company, [section], user=memoir.user)
    client = admin_client(memoir.user)
    url = reverse("admin:projects_section_change", args=[section.pk])
    page = client.get(url)
    html = page.content.decode()
    # The sources beside the text, by title and pinned version, linked to the block;
    # never ids to type.
    block_url = reverse("admin:library_contentblock_change", args=[memoir.procedure.pk])
    assert f'<a href="{block_url}">Procédure de bétonnage</a> — v1' in html
    assert 'name="source_blocks"' not in html and 'name="generated_by_ai"' not in html
    # The panels beside the text under their labels, not the method names the admin
    # falls back on ("Sources panel", "Last diff": English on a French page).
    french = client.get(url, headers={"accept-language": "fr"}).content.decode()
    assert "Sources panel" not in french and "Last diff" not in french
    assert re.search(r"<label>Sources\s:</label>", french)  # a no-break space before ":"
    assert re.search(r"<label>Modifications depuis la version précédente\s:</label>", french)
    data = form_data(page, "section_form")
    data["content"] = "Texte corrigé par la relectrice."
    response = client.post(url, data)
    assert response.status_code == 302
    sources, by_ai = section.source_blocks, section.generated_by_ai
    section.refresh_from_db()
    assert section.content == "Texte corrigé par la relectrice." and not section.reviewed
    assert (section.source_blocks, section.generated_by_ai) == (sources, by_ai)  # kept
    kept = SectionVersion.objects.get(section=section)
    assert kept.reason == "edit" and kept.replaced_by == memoir.user
    assert "+Texte corrigé par la relectrice." in client.get(url).content.decode()


def test_the_demo_project_is_generated_over_its_legacy_sections():
    from django.core.management import call_command

    call_command("loaddata", "demo", verbosity=0)
    project = Project.objects.get(name="Réhabilitation et extension du collège Louis-Pasteur")
    legacy = {s.section_type: s.pk for s in Section.objects.filter(project=project)}
    job = generation.queue_generation(project.company, project, now=True)
    assert job.status == JobStatus.SUCCEEDED, job.error
    sections = list(Section.objects.filter(project=project).order_by("order_num"))
    assert [s.section_type for s in sections] == [f"RS-0{i}" for i in range(1, 7)]
    # The legacy sections were rewritten in place, their text kept as a version.
    assert set(legacy.values()) <= {s.pk for s in sections}
    assert SectionVersion.objects.filter(section__project=project).count() == len(legacy)
    project.refresh_from_db()
    assert project.status == ProjectStatus.GENERATED


def test_a_company_already_over_budget_is_told_when_queueing(memoir, llm):
    from tests.factories import GenerationRequestFactory

    memoir.company.settings = {"generation_budget": {"monthly_tokens": 1000}}
    memoir.company.save()
    GenerationRequestFactory(project=memoir.project, completed=True, tokens_used=1000)
    with pytest.raises(generation.GenerationNotAllowed, match="1000"):
        generation.queue_generation(memoir.company, memoir.project)
    memoir.project.refresh_from_db()
    assert memoir.project.status == ProjectStatus.MATCHED
    assert not Job.objects.filter(kind=JobKind.GENERATION).exists() and llm.received == []


def test_one_section_is_written_again_from_the_project_page(memoir):
    from django.urls import reverse

    from tests.admin_helpers import admin_client

    _generate(memoir)
    before = {k: s.content for k, s in _sections(memoir.project).items()}
    client = admin_client(memoir.user)
    page = client.get(reverse("admin:projects_project_change", args=[memoir.project.pk]))
    assert page.content.decode().count('name="regenerate"') == 2
    url = reverse("admin:projects_project_generate", args=[memoir.project.pk])
    assert client.post(url, {"criterion": "C1.2"}).status_code == 302
    run_queued_jobs()
    job = Job.objects.filter(kind=JobKind.GENERATION).order_by("-created_at").first()
    assert job.params["criteria"] == ["C1.2"] and job.result["sections"] == 1
    assert SectionVersion.objects.filter(section__project=memoir.project).count() == 1
    assert SectionVersion.objects.get().section.section_type == "C1.2"
    assert {k: s.content for k, s in _sections(memoir.project).items()} == before
    # An unknown criterion is refused with a message, nothing queued.
    response = client.post(url, {"criterion": "C9"}, follow=True)
    assert "C9" in response.content.decode()
    assert Job.objects.filter(kind=JobKind.GENERATION).count() == 2


def test_retitling_a_section_in_the_project_page_keeps_a_version_and_clears_review(memoir):
    from django.urls import reverse

    from tests.admin_helpers import admin_client, form_data

    section = SectionFactory(project=memoir.project, with_review=True, title="Ancien titre")
    client = admin_client(memoir.user)
    url = reverse("admin:projects_project_change", args=[memoir.project.pk])
    data = form_data(client.get(url), "project_form")
    key = next(k for k, v in data.items() if k.endswith("-title") and v == "Ancien titre")
    data[key] = "Nouveau titre"
    assert client.post(url, data).status_code == 302
    section.refresh_from_db()
    assert section.title == "Nouveau titre" and not section.reviewed
    assert SectionVersion.objects.get(section=section).title == "Ancien titre"


def test_a_blocks_paragraph_claiming_an_unapproved_certification_is_left_out(memoir):
    block = memoir.procedure
    block.content = (
        "Le bétonnage des voiles suit la procédure PR-QSE-07.\n\n"
        "Notre système est certifié ISO 14001 et MASE depuis 2012."
    )
    library_services.save_block(memoir.company, block, user=memoir.user)
    _generate(memoir)
    text = _sections(memoir.project)["C1.1"].content
    assert "Le bétonnage des voiles suit la procédure PR-QSE-07." in text
    assert "14001" not in text and "MASE" not in text
    row = GenerationRequest.objects.get(project=memoir.project, section_type="C1.1")
    [left_out] = row.request_context["params"]["left_out"]
    assert left_out["source"] == "Procédure de bétonnage" and len(left_out["facts"]) == 2


def test_an_approved_qualification_naming_a_scheme_is_no_certification_claim(memoir):
    cv = memoir.cv
    cv.metadata = {
        **cv.metadata,
        "qualifications": [
            {"kind": "other", "label": "Encadrement de chantier MASE", "mandatory": False}
        ],
    }
    library_services.save_block(memoir.company, cv, user=memoir.user)
    from projects.memoir import factcheck

    cv.refresh_from_db()
    on = memoir.project.deadline.date()
    assert factcheck.unknown_facts(memoir.company, "Encadrement de chantier MASE", [cv], on) == []
    assert factcheck.unknown_facts(memoir.company, "Nous sommes certifiés MASE.", [cv], on)


def test_a_sections_type_is_chosen_by_its_label_not_typed_as_a_code(memoir):
    """The project's sections and a section's page offer the types by their French
    labels; a criterion id the generation gave stays selected; an unknown code is a
    form error that writes nothing."""
    from django.urls import reverse

    from tests.admin_helpers import admin_client, form_data

    _generate(memoir)
    section = _sections(memoir.project)["C1.1"]
    client = admin_client(memoir.user)
    french = {"accept-language": "fr"}
    url = reverse("admin:projects_section_change", args=[section.pk])
    page = client.get(url, headers=french)
    html = page.content.decode()
    assert re.search(r'<option value="moyens_humains">Moyens humains</option>', html)
    assert re.search(r'<option value="C1.1" selected>C1.1</option>', html)
    assert 'type="text" name="section_type"' not in html
    project_page = client.get(
        reverse("admin:projects_project_change", args=[memoir.project.pk]), headers=french
    ).content.decode()
    assert re.search(r'<select name="sections-0-section_type"', project_page)

    data = form_data(page, "section_form")
    data["section_type"] = "n_importe_quoi"
    response = client.post(url, data, headers=french)
    assert response.status_code == 200
    assert "section_type" in response.context["adminform"].form.errors
    section.refresh_from_db()
    assert section.section_type == "C1.1"


def test_a_generation_reads_the_companys_people_and_certificates_once(memoir, monkeypatch):
    """What any section could name is read once per job, not once per paragraph or
    section: at 3,500 CVs and certificates that read was most of a 14 s generation."""
    from projects.memoir import factcheck

    calls = []
    read = factcheck.company_facts

    def counted(company):
        calls.append(company)
        return read(company)

    monkeypatch.setattr(factcheck, "company_facts", counted)
    job = _generate(memoir)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert len(_sections(memoir.project)) > 1
    assert len(calls) == 1
