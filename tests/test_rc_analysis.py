"""The RC analysis in the product: the upload on a project, the background job and what
it moves and fills, failures, re-analysis over a reviewed analysis, the review form,
an analysis entered by hand, the LLM backend against a fake provider on 127.0.0.1, the
commands, and the company boundary."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse

from audit.models import AuditLog
from jobs.models import Job, JobKind, JobStatus
from projects.forms import check_rc
from projects.models import (
    DocumentKind,
    GenerationRequest,
    GenerationStatus,
    Project,
    ProjectDocument,
    ProjectStatus,
    RCAnalysis,
)
from projects.rc import evaluation, services, storage
from projects.rc.document import read
from projects.rc.parser import analyse
from tests.admin_helpers import admin_client, form_data
from tests.documents import make_pdf as make_plain_pdf
from tests.factories import CompanyFactory, ProjectFactory, UserFactory
from tests.fake_llm import FakeLLMServer, anthropic_error, anthropic_message
from tests.jobs_support import run_queued_jobs

pytestmark = pytest.mark.django_db

CORPUS = evaluation.CORPUS
PARIS = ZoneInfo("Europe/Paris")
#: Lot 2 named, a deadline, a buyer, a location, criteria with sub-criteria in a table.
ANGLET = (CORPUS / "17-tableau-aplati.pdf").read_bytes()
SAINT_AUBIN = (CORPUS / "01-salle-multisports.txt").read_bytes()


@pytest.fixture(autouse=True)
def _offline(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.LLM_PROVIDER = ""
    settings.RC_ANALYSIS_BACKEND = "auto"


@pytest.fixture
def company():
    return CompanyFactory(name="Bâtiments de l'Ouest")


@pytest.fixture
def member(company):
    return UserFactory(company=company)


@pytest.fixture
def client(member):
    return admin_client(member)


def empty_project(company, **kwargs) -> Project:
    values = {"client": None, "lot": None, "location": None, "deadline": None, **kwargs}
    return ProjectFactory(company=company, **values)


def attach_rc(company, project, data: bytes, name: str = "rc.pdf") -> ProjectDocument:
    upload = ContentFile(data, name=name)
    return services.attach(company, project, upload, check_rc(upload), DocumentKind.RC)


def analysed(company, data: bytes = ANGLET, name: str = "rc.pdf", **kwargs):
    project = empty_project(company, **kwargs)
    attach_rc(company, project, data, name)
    job = services.queue_analysis(company, project, now=True)
    assert job.status == JobStatus.SUCCEEDED, job.error
    project.refresh_from_db()
    return project, RCAnalysis.objects.get(project=project)


def add_page_data(client) -> dict:
    response = client.get(reverse("admin:projects_project_add"))
    return form_data(response, "project_form")


# --- upload and job --------------------------------------------------------------------------


def test_uploading_an_rc_on_a_new_project_queues_its_analysis_and_fills_the_project(client, member):
    data = {
        **add_page_data(client),
        "name": "Avenue de l'Adour – éclairage",
        "rc_document": ContentFile(ANGLET, name="RC Anglet lot 2.pdf"),
        "_continue": "1",
    }
    response = client.post(reverse("admin:projects_project_add"), data, follow=True)
    assert response.status_code == 200 and response.redirect_chain, response.content.decode()[
        -2000:
    ]
    project = Project.objects.get(name="Avenue de l'Adour – éclairage")
    assert project.company_id == member.company_id
    assert project.status == ProjectStatus.RC_ANALYZING
    [document] = project.documents.all()
    assert (document.kind, document.filename, document.uploaded_by) == (
        "rc",
        "RC Anglet lot 2.pdf",
        member,
    )
    assert document.storage_path.startswith(
        f"companies/{member.company_id}/projects/{project.pk}/documents/{document.sha256[:16]}/"
    )
    assert default_storage.exists(document.storage_path)
    assert project.rc_storage_path == document.storage_path
    [job] = Job.objects.filter(kind=JobKind.RC_ANALYSIS)
    assert (job.target_id, job.status, job.created_by) == (project.pk, JobStatus.QUEUED, member)
    page = response.content.decode()
    assert reverse("admin:jobs_job_progress", args=[job.pk]) in page  # the progress bar
    assert "queued for analysis" in page

    [done] = run_queued_jobs()
    assert done.status == JobStatus.SUCCEEDED, done.error
    project.refresh_from_db()
    assert project.status == ProjectStatus.RC_ANALYZED
    assert project.client == "Commune d'Anglet"
    assert project.lot == "Lot 2 – Éclairage public"
    assert project.location == "Avenue de l'Adour, 64600 Anglet"
    assert project.deadline == datetime.datetime(2025, 9, 19, 12, 0, tzinfo=PARIS)
    analysis = project.rc_analysis
    ids = [c["id"] for c in analysis.scoring_criteria["criteria"]]
    assert ids == ["C1", "C2"]
    assert [s["id"] for s in analysis.scoring_criteria["criteria"][0]["subcriteria"]] == [
        "C1.1",
        "C1.2",
        "C1.3",
    ]
    assert [r["id"] for r in analysis.required_sections] == ["R1", "R2", "R3"]
    assert analysis.rc_file_url == document.storage_path
    assert analysis.project_info["deadline"]["source"]["page"] == 1
    actions = list(
        AuditLog.objects.filter(company_id=member.company_id).values_list("action", flat=True)
    )
    assert "rc_analysis.analyse" in actions and actions.count("project.transition") == 2
    page = client.get(reverse("admin:projects_project_change", args=[project.pk])).content.decode()
    assert reverse("admin:projects_rcanalysis_change", args=[analysis.pk]) in page
    assert "Valeur technique" in page and "55" in page


def test_what_a_person_typed_on_the_project_is_not_overwritten(company):
    project, _ = analysed(company, client="Mairie d'Anglet (service marchés)")
    assert project.client == "Mairie d'Anglet (service marchés)"
    assert project.lot == "Lot 2 – Éclairage public"  # empty: filled


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "rc.pdf", "file_type"),
        (make_plain_pdf([[""], [""]]), "scan.pdf", "scanned"),
        (b"", "vide.pdf", "empty"),
    ],
)
def test_bad_rc_uploads_are_refused_and_nothing_is_written(client, data, name, code):
    payload = {
        **add_page_data(client),
        "name": "Refusé",
        "rc_document": ContentFile(data, name=name),
    }
    response = client.post(reverse("admin:projects_project_add"), payload)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors.as_data()
    assert code in [e.code for e in errors["rc_document"]]
    assert not Project.objects.filter(name="Refusé").exists()
    assert not ProjectDocument.objects.exists() and not Job.objects.exists()


def test_a_scanned_pdf_gets_a_french_message(settings):
    from django.utils import translation

    upload = ContentFile(make_plain_pdf([[""]]), name="scan.pdf")
    with translation.override("fr"):
        with pytest.raises(Exception, match="OCR") as caught:
            check_rc(upload)
        message = str(caught.value)
    assert "couche texte" in message


def test_other_consultation_documents_are_attached_without_analysis(client):
    project = empty_project(CompanyFactory())  # another company's: not used
    del project
    payload = {
        **add_page_data(client),
        "name": "Avec CCTP",
        "other_documents": [ContentFile(b"CCTP lot unique\n" * 20, name="cctp.txt")],
        "other_kind": "cctp",
    }
    response = client.post(reverse("admin:projects_project_add"), payload, follow=True)
    assert response.status_code == 200
    project = Project.objects.get(name="Avec CCTP")
    assert [(d.kind, d.filename) for d in project.documents.all()] == [("cctp", "cctp.txt")]
    assert project.status == ProjectStatus.DRAFT and not Job.objects.exists()


def test_a_failed_analysis_leaves_the_project_in_draft_with_the_error(company, client):
    project = empty_project(company, name="Projet au RC abîmé")
    document = attach_rc(company, project, SAINT_AUBIN, "rc.txt")
    default_storage.delete(document.storage_path)
    with default_storage.open(document.storage_path, "wb") as handle:
        handle.write(b"%PDF-1.4\n garbage that is no PDF at all")
    job = services.queue_analysis(company, project, now=True)
    assert job.status == JobStatus.FAILED and job.attempts == 1  # not retried: the file is bad
    project.refresh_from_db()
    assert project.status == ProjectStatus.DRAFT
    assert project.metadata["rc_analysis"]["status"] == "failed"
    assert project.metadata["rc_analysis"]["error"] == job.error
    assert not RCAnalysis.objects.exists()
    page = client.get(reverse("admin:projects_project_change", args=[project.pk])).content.decode()
    assert "rc-analysis-error" in page


def test_a_failed_reanalysis_keeps_the_previous_analysis(company):
    project, before = analysed(company)
    document = project.documents.get()
    default_storage.delete(document.storage_path)
    job = services.queue_analysis(company, project, now=True)
    assert job.status == JobStatus.FAILED
    project.refresh_from_db()
    assert project.status == ProjectStatus.RC_ANALYZED
    after = RCAnalysis.objects.get(project=project)
    assert (
        after.scoring_criteria == before.scoring_criteria
        and after.analyzed_at == before.analyzed_at
    )


def test_an_analysis_is_refused_past_the_rc_steps_and_without_an_rc(company):
    project = empty_project(company, status=ProjectStatus.MATCHED)
    attach_rc(company, project, SAINT_AUBIN, "rc.txt")
    with pytest.raises(services.AnalysisRefused, match="Content matched"):
        services.queue_analysis(company, project)
    bare = empty_project(company)
    with pytest.raises(services.AnalysisRefused, match="RC first"):
        services.queue_analysis(company, bare)
    assert not Job.objects.exists()


# --- the review form ----------------------------------------------------------------------------


def review_url(analysis) -> str:
    return reverse("admin:projects_rcanalysis_change", args=[analysis.pk])


class _Row(dict):
    def __missing__(self, field: str) -> str:  # a checkbox left unticked is not in the data
        return f"{self.prefix}-{field}"


def rows(data: dict, prefix: str) -> dict[str, dict]:
    """The formset rows of ``data`` keyed by their ``key`` field: {key: {field: name}}."""
    found = {}
    total = int(data[f"{prefix}-TOTAL_FORMS"])
    for number in range(total):
        key = data.get(f"{prefix}-{number}-key") or f"new{number}"
        row = _Row(
            {
                name.rsplit("-", 1)[1]: name
                for name in data
                if name.startswith(f"{prefix}-{number}-")
            }
        )
        row.prefix = f"{prefix}-{number}"
        found[key] = row
    return found


def test_the_review_page_shows_rows_with_weights_shares_and_sources(client, company):
    _project, analysis = analysed(company)
    response = client.get(review_url(analysis))
    assert response.status_code == 200
    page = response.content.decode()
    data = form_data(response, "rcanalysis_form")
    criteria = rows(data, "criteria")
    assert (
        data[criteria["C1"]["name"]] == "Valeur technique"
        and data[criteria["C1"]["weight"]] == "55"
    )
    assert data[criteria["C1.1"]["parent"]] == "C1"
    assert data["facts-buyer"] == "Commune d'Anglet"
    assert data["facts-deadline"] == "19/09/2025 12:00"
    assert "Valeur technique 55 %" in page  # the source excerpt
    assert "rc-weights-warning" not in page  # 55 + 45 = 100


def test_correcting_one_weight_saves_recomputes_marks_and_audits(client, company):
    project, analysis = analysed(company)
    data = form_data(client.get(review_url(analysis)), "rcanalysis_form")
    criteria = rows(data, "criteria")
    data[criteria["C1.1"]["weight"]] = "25"  # organisation et méthodologie: 30 → 25
    before = set(AuditLog.objects.values_list("pk", flat=True))
    response = client.post(review_url(analysis), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert response.url == reverse("admin:projects_project_change", args=[project.pk])
    stored = storage.from_row(RCAnalysis.objects.get(pk=analysis.pk))
    technical = stored.criteria[0]
    assert [(s.id, s.weight, s.corrected) for s in technical.subcriteria] == [
        ("C1.1", 25, True),
        ("C1.2", 15, False),
        ("C1.3", 10, False),
    ]
    assert stored.criteria_corrected
    # 25 + 15 + 10 = 50 points of the 55 of their parent, on the global scale: the
    # shares follow the points, and the page warns of the 5 missing.
    assert [s.share for s in technical.subcriteria] == [0.25, 0.15, 0.1]
    page = client.get(review_url(analysis)).content.decode()
    assert "rc-weights-warning" in page and "50" in page
    entries = AuditLog.objects.exclude(pk__in=before)
    update = entries.get(action="rc_analysis.update")
    assert "scoring_criteria" in update.details["changes"]


def test_a_row_with_a_weight_but_no_unit_is_refused_and_nothing_changes(client, company):
    _project, analysis = analysed(company)
    response = client.get(review_url(analysis))
    data = form_data(response, "rcanalysis_form")
    criteria = rows(data, "criteria")
    data[criteria["C2"]["unit"]] = ""
    response = client.post(review_url(analysis), data)
    assert response.status_code == 200
    assert "Choose the unit of this weight." in response.content.decode()
    assert RCAnalysis.objects.get(pk=analysis.pk).scoring_criteria == analysis.scoring_criteria


def test_adding_and_deleting_rows_keeps_ids_stable(client, company):
    _project, analysis = analysed(company)
    data = form_data(client.get(review_url(analysis)), "rcanalysis_form")
    criteria = rows(data, "criteria")
    data[criteria["C1.2"]["DELETE"]] = "on"
    new = [row for key, row in criteria.items() if key.startswith("new")]
    data[new[0]["name"]] = "Délai d'exécution"
    data[new[0]["weight"]] = "5"
    data[new[0]["unit"]] = "%"
    data[new[1]["name"]] = "Références"
    data[new[1]["weight"]] = "5"
    data[new[1]["unit"]] = "%"
    data[new[1]["parent"]] = "C1"
    response = client.post(review_url(analysis), {**data, "_continue": "1"})
    assert response.status_code == 302
    stored = storage.from_row(RCAnalysis.objects.get(pk=analysis.pk))
    assert [c.id for c in stored.criteria] == ["C1", "C2", "C3"]
    assert [s.id for s in stored.criteria[0].subcriteria] == [
        "C1.1",
        "C1.3",
        "C1.4",
    ]  # C1.2 not reused
    assert stored.criteria[2].name == "Délai d'exécution"


def test_correcting_a_fact_fills_the_project_where_the_analysis_had(client, company):
    project, analysis = analysed(company)
    data = form_data(client.get(review_url(analysis)), "rcanalysis_form")
    data["facts-deadline"] = "26/09/2025 16:00"
    data["facts-lot"] = "Lot 2 – Éclairage public et signalisation"
    assert client.post(review_url(analysis), data).status_code == 302
    project.refresh_from_db()
    assert project.deadline == datetime.datetime(2025, 9, 26, 16, 0, tzinfo=PARIS)
    assert project.lot == "Lot 2 – Éclairage public et signalisation"
    stored = storage.from_row(RCAnalysis.objects.get(pk=analysis.pk))
    assert (
        stored.facts["deadline"].corrected
        and stored.facts["deadline"].value == "2025-09-26T16:00:00+02:00"
    )


def test_a_reanalysis_keeps_corrections_and_proposes_the_new_values(client, company):
    project, analysis = analysed(company)
    data = form_data(client.get(review_url(analysis)), "rcanalysis_form")
    criteria = rows(data, "criteria")
    data[criteria["C2"]["weight"]] = "50"
    data["facts-buyer"] = "Ville d'Anglet"
    assert client.post(review_url(analysis), data).status_code == 302
    job = services.queue_analysis(company, project, now=True)
    assert job.status == JobStatus.SUCCEEDED
    stored = storage.from_row(RCAnalysis.objects.get(pk=analysis.pk))
    assert stored.criteria[1].weight == 50  # the person's value stays
    assert stored.facts["buyer"].value == "Ville d'Anglet"
    assert stored.proposals["facts"]["buyer"]["value"] == "Commune d'Anglet"
    assert stored.proposals["criteria"][1]["weight"] == 45
    page = client.get(review_url(analysis))
    assert "Commune d&#x27;Anglet" in page.content.decode()
    data = form_data(page, "rcanalysis_form")
    data["accept-criteria"] = "on"
    data["facts-accept_buyer"] = "on"
    assert client.post(review_url(analysis), data).status_code == 302
    stored = storage.from_row(RCAnalysis.objects.get(pk=analysis.pk))
    assert stored.criteria[1].weight == 45 and stored.facts["buyer"].value == "Commune d'Anglet"
    assert stored.proposals == {}


def test_a_viewer_reads_the_review_without_inputs_and_cannot_save(company):
    _project, analysis = analysed(company)
    viewer = admin_client(UserFactory(company=company, viewer=True))
    response = viewer.get(review_url(analysis))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Valeur technique" in page and 'name="criteria-0-name"' not in page
    assert 'name="_save"' not in page
    assert viewer.post(review_url(analysis), {}).status_code == 403


def test_an_analysis_entered_by_hand_moves_a_draft_project(client, company):
    project = empty_project(company, name="RC sur papier")
    response = client.post(reverse("admin:projects_rcanalysis_add"), {"project": str(project.pk)})
    analysis = RCAnalysis.objects.get(project=project)
    assert response.status_code == 302 and response.url == review_url(analysis)
    data = form_data(client.get(review_url(analysis)), "rcanalysis_form")
    criteria = rows(data, "criteria")
    first, second = [row for key, row in criteria.items() if key.startswith("new")][:2]
    data.update(
        {
            first["name"]: "Valeur technique", first["weight"]: "60", first["unit"]: "%",
            second["name"]: "Prix", second["weight"]: "40", second["unit"]: "%",
            "facts-deadline": "06/03/2026 12:00",
        }
    )  # fmt: skip
    assert client.post(review_url(analysis), data).status_code == 302
    project.refresh_from_db()
    assert project.status == ProjectStatus.RC_ANALYZED
    assert project.deadline == datetime.datetime(2026, 3, 6, 12, 0, tzinfo=PARIS)
    stored = storage.from_row(RCAnalysis.objects.get(pk=analysis.pk))
    assert [(c.id, c.name, c.share) for c in stored.criteria] == [
        ("C1", "Valeur technique", 0.6),
        ("C2", "Prix", 0.4),
    ]


# --- the company boundary --------------------------------------------------------------------------


def test_services_refuse_another_companys_project(company):
    theirs = empty_project(CompanyFactory())
    upload = ContentFile(SAINT_AUBIN, name="rc.txt")
    with pytest.raises(Project.DoesNotExist):
        services.attach(company, theirs, upload, check_rc(upload), DocumentKind.RC)
    with pytest.raises(Project.DoesNotExist):
        services.queue_analysis(company, theirs)
    assert not ProjectDocument.objects.exists() and not Job.objects.exists()


def test_another_companys_analysis_and_documents_are_not_found(client, company):
    _project, theirs = analysed(CompanyFactory())
    document = theirs.project.documents.get()
    for url in (
        review_url(theirs),
        reverse("admin:projects_projectdocument_download", args=[document.pk]),
        reverse("admin:projects_projectdocument_change", args=[document.pk]),
    ):
        response = client.get(url)
        assert response.status_code in (302, 404)
        assert "Anglet" not in response.content.decode()
    response = client.post(reverse("admin:projects_project_analyse_rc", args=[theirs.project_id]))
    assert response.status_code == 302 and response.url == reverse("admin:index")
    assert Job.objects.filter(kind=JobKind.RC_ANALYSIS).count() == 1


# --- the LLM backend against a fake provider ----------------------------------------------------------


@pytest.fixture
def llm(settings):
    with FakeLLMServer() as server:
        settings.LLM_PROVIDER = "anthropic"
        settings.LLM_API_KEY = "sk-test"
        settings.LLM_BASE_URL = server.url
        settings.LLM_MODEL = ""
        settings.LLM_MAX_RETRIES = 0
        yield server


def parser_answer(data: bytes = ANGLET) -> dict:
    return analyse(read(data)).to_output()


def test_the_llm_backend_is_used_flagged_where_it_disagrees_and_costed(company, llm):
    answer = parser_answer()
    answer["deadline"] = "2025-09-19T16:00:00+02:00"  # the model read another time
    llm.reply(anthropic_message(json.dumps(answer), input_tokens=4000, output_tokens=800))
    project, analysis = analysed(company)
    stored = storage.from_row(analysis)
    assert stored.backend == "llm"
    assert stored.facts["deadline"].value == "2025-09-19T16:00:00+02:00"
    assert stored.facts["deadline"].flag  # parser and model disagree: for review
    assert (
        not stored.facts["buyer"].flag and stored.facts["buyer"].source
    )  # agree: the parser's source
    assert [c.name for c in stored.criteria] == ["Valeur technique", "Prix des prestations"]
    [call] = GenerationRequest.objects.filter(project=project)
    assert (call.section_type, call.status, call.tokens_used) == (
        "rc_analysis",
        GenerationStatus.COMPLETED,
        4800,
    )
    assert call.model_used == "claude-sonnet-4-20250514"
    assert str(call.cost_usd) == "0.024000"  # 4000 × 3 $ + 800 × 15 $ per million
    assert call.request_context["input_tokens"] == 4000 and call.latency_seconds is not None
    [sent] = llm.received
    assert "[page 1]" in sent.body["messages"][0]["content"]
    assert "JSON schema" in sent.body["system"]


def test_an_llm_reading_other_criteria_keeps_the_parsers_as_the_alternative(client, company, llm):
    answer = parser_answer()
    answer["criteria"] = [
        {"name": "Valeur technique", "weight": 60, "unit": "%", "subcriteria": []},
        {"name": "Prix des prestations", "weight": 40, "unit": "%", "subcriteria": []},
    ]
    llm.reply(anthropic_message(json.dumps(answer)))
    _project, analysis = analysed(company)
    stored = storage.from_row(analysis)
    assert [c.weight for c in stored.criteria] == [60, 40]
    assert [c.weight for c in stored.alternative_criteria] == [55, 45]
    data = form_data(client.get(review_url(analysis)), "rcanalysis_form")
    data["accept-alternative"] = "on"
    assert client.post(review_url(analysis), data).status_code == 302
    stored = storage.from_row(RCAnalysis.objects.get(pk=analysis.pk))
    assert [c.weight for c in stored.criteria] == [55, 45] and stored.alternative_criteria == []


def test_invalid_llm_output_is_retried_once_then_the_parser_is_kept(company, llm):
    llm.reply(
        anthropic_message('{"criteria": "plein"}', input_tokens=100, output_tokens=10),
        anthropic_message(
            "Voici les critères : prix et valeur technique.", input_tokens=120, output_tokens=12
        ),
    )
    project, analysis = analysed(company)
    stored = storage.from_row(analysis)
    assert stored.backend == "parser"
    assert any("language model could not be used" in w for w in stored.warnings)
    assert [c.weight for c in stored.criteria] == [55, 45]
    calls = GenerationRequest.objects.filter(project=project).order_by("created_at")
    assert [c.status for c in calls] == [GenerationStatus.FAILED, GenerationStatus.FAILED]
    assert sum(c.tokens_used for c in calls) == 242 and all(c.error_message for c in calls)
    assert len(llm.received) == 2


def test_a_refused_key_keeps_the_parsers_result_and_records_the_failure(company, llm):
    llm.reply(anthropic_error(401, "authentication_error", "invalid x-api-key"))
    project, analysis = analysed(company)
    stored = storage.from_row(analysis)
    assert stored.backend == "parser" and any("LLM_API_KEY" in w for w in stored.warnings)
    [call] = GenerationRequest.objects.filter(project=project)
    assert call.status == GenerationStatus.FAILED and "invalid x-api-key" in call.error_message


def test_an_llm_backend_without_a_provider_fails_the_job_clearly(company, settings):
    settings.RC_ANALYSIS_BACKEND = "llm"
    project = empty_project(company)
    attach_rc(company, project, SAINT_AUBIN, "rc.txt")
    job = services.queue_analysis(company, project, now=True)
    assert job.status == JobStatus.FAILED and "LLM_PROVIDER" in job.error
    project.refresh_from_db()
    assert project.status == ProjectStatus.DRAFT


# --- the commands --------------------------------------------------------------------------------------


def test_analyse_rc_prints_the_json_without_saving_anything(capsys):
    call_command("analyse_rc", str(CORPUS / "11-lot-unique-nomme.txt"))
    out = json.loads(capsys.readouterr().out)
    assert list(out) == [
        "buyer", "subject", "lot", "location", "deadline", "page_limit", "site_visit",
        "variants_allowed", "required_contents", "criteria", "criteria_by_lot", "warnings",
    ]  # fmt: skip
    assert out["lot"] == "Lot 4 – Menuiseries intérieures bois"
    assert out["deadline"] == "2025-11-14T11:00:00+01:00"
    assert [(c["name"], c["weight"], c["unit"], c["share"]) for c in out["criteria"]] == [
        ("Valeur technique", 50, "points", 0.5),
        ("Prix", 50, "points", 0.5),
    ]
    assert set(out["criteria"][0]["subcriteria"][0]) >= {
        "name",
        "weight",
        "unit",
        "share",
        "subcriteria",
    }
    assert not Project.objects.exists() and not RCAnalysis.objects.exists()


def test_analyse_rc_lot_option_picks_the_lots_criteria(capsys):
    call_command("analyse_rc", str(CORPUS / "10-lots-derogation.txt"), "--lot", "2")
    out = json.loads(capsys.readouterr().out)
    assert [c["weight"] for c in out["criteria"]] == [35, 50, 15]


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda tmp: tmp / "absent.pdf", "n'existe pas"),
        (lambda tmp: tmp, "dossier"),
        (lambda tmp: _write(tmp / "image.pdf", b"\x89PNG\r\n\x1a\n" + b"\0" * 50), "PDF, DOCX"),
        (lambda tmp: _write(tmp / "scan.pdf", make_plain_pdf([[""]])), "OCR"),
    ],
)
def test_analyse_rc_exits_1_with_one_french_line(tmp_path, capsys, make, expected):
    from django.utils import translation

    with translation.override("fr"), pytest.raises(SystemExit) as exited:
        call_command("analyse_rc", str(make(tmp_path)))
    assert exited.value.code == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1 and expected in lines[0]


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_analyse_rc_llm_backend_unconfigured_exits_1(capsys):
    from django.utils import translation

    with translation.override("fr"), pytest.raises(SystemExit):
        call_command("analyse_rc", str(CORPUS / "01-salle-multisports.txt"), "--backend", "llm")
    assert "LLM_PROVIDER" in capsys.readouterr().err


def test_evaluate_rc_prints_the_scores_and_the_targets(capsys):
    call_command("evaluate_rc", "--runs", "1")
    out = capsys.readouterr().out
    for line in (
        "criteria F1",
        "weights exact",
        "sub-criteria F1",
        "deadline exact",
        "invented criteria",
        "Overall score",
        "rc-40-pages.pdf (40 pages)",
    ):
        assert line in out
    assert "❌" not in out
