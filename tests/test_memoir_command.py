"""``manage.py memoir_from_rc`` (issue 15): the whole flow from an RC file to a DOCX.

The matching of issue 14 (``projects.matching.run_matching``) is developed on another
branch: these tests install a stand-in module that writes ContentMatch rows the way the
matching does (one per technical criterion, with a confidence)."""

from __future__ import annotations

import io
import sys
import types
from pathlib import Path

import docx
import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command

from library.choices import BlockType
from projects.models import ContentMatch, MemoirExport, Project, ProjectStatus, Section
from tests.factories import CompanyFactory, ContentBlockFactory, UserFactory

pytestmark = pytest.mark.django_db

RC = Path(__file__).resolve().parent.parent / "projects/rc/corpus/01-salle-multisports.pdf"


@pytest.fixture(autouse=True)
def _offline(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.RC_ANALYSIS_BACKEND = "parser"
    settings.GENERATION_BACKEND = "assembly"


@pytest.fixture
def company():
    company = CompanyFactory(name="Constructions Armoricaines")
    user = UserFactory(company=company)
    ContentBlockFactory(company=company, created_by=user, type=BlockType.PERSON_CV, title="CV")
    ContentBlockFactory(
        company=company, created_by=user, type=BlockType.PROCEDURE, title="Sécurité"
    )
    return company


@pytest.fixture
def matching(monkeypatch):
    """A stand-in for projects.matching: matches every block to each sub-criterion,
    with a high confidence for C1.2 and a low one elsewhere."""
    from library.models import ContentBlock
    from projects.rc import storage

    calls = []

    def run_matching(company, project, progress=None):
        calls.append(project.pk)
        analysis = storage.from_row(project.rc_analysis)
        blocks = list(ContentBlock.objects.for_company(company).values_list("pk", flat=True))
        for criterion in analysis.criteria:
            for leaf in criterion.subcriteria or [criterion]:
                ContentMatch.objects.create(
                    project=project,
                    requirement_id=leaf.id,
                    matched_blocks=blocks,
                    confidence=0.9 if leaf.id == "C1.2" else 0.3,
                )

    module = types.ModuleType("projects.matching")
    module.run_matching = run_matching
    monkeypatch.setitem(sys.modules, "projects.matching", module)
    return calls


def _run(*args):
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("memoir_from_rc", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_the_whole_flow_from_an_rc_to_a_docx(company, matching, tmp_path):
    output = tmp_path / "memoire.docx"
    code, out, err = _run(
        str(RC), "--company", company.name, "--output", str(output), "--approve-above", "0.8"
    )
    assert code == 0, err
    assert matching
    project = Project.objects.get(company=company)
    assert project.status == ProjectStatus.GENERATED
    assert project.name.startswith("Construction d'une salle multisports")
    assert ContentMatch.objects.filter(project=project, approved=True).count() == 1
    sections = list(Section.objects.filter(project=project).order_by("order_num"))
    assert [s.section_type for s in sections] == ["C1.1", "C1.2", "C1.3"]
    assert MemoirExport.objects.filter(project=project).count() == 1
    headings = [
        p.text for p in docx.Document(str(output)).paragraphs if p.style.name.startswith("Heading")
    ]
    assert "1. Valeur technique" in headings and "1.2 Moyens humains et matériels" in headings
    assert "Valeur technique" in out and "Couverture : 20.0 / 60.0 points" in out
    assert "Sections : 3" in out and "Jetons : 0" in out
    assert list(tmp_path.glob("*.part")) == []


@pytest.mark.parametrize(
    "args,message",
    [
        (["missing.pdf", "--company", "Constructions Armoricaines"], "n'existe pas"),
        ([str(RC), "--company", "Inconnue SA"], "Entreprise inconnue"),
        (
            [str(RC), "--company", "Constructions Armoricaines", "--approve-above", "2"],
            "entre 0 et 1",
        ),
    ],
)
def test_bad_input_is_one_french_line_and_exit_1(company, matching, tmp_path, args, message):
    output = tmp_path / "memoire.docx"
    code, _out, err = _run(*args, "--output", str(output))
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1
    assert not output.exists() and not Project.objects.exists()


def test_a_failure_midway_leaves_nothing_half_written(company, matching, tmp_path, monkeypatch):
    from projects.memoir import export

    def broken(*args, **kwargs):
        raise export.ExportNotAllowed("Export impossible (test).")

    monkeypatch.setattr(export, "queue_export", broken)
    output = tmp_path / "memoire.docx"
    code, _out, err = _run(str(RC), "--company", company.name, "--output", str(output))
    assert code == 1 and err.strip() == "Export impossible (test)."
    assert not output.exists()
    assert not Project.objects.filter(company=company).exists()
    root = Path(default_storage.location)
    assert not [p for p in root.rglob("*") if p.is_file()]


def test_without_the_matching_module_the_command_says_so(company, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "projects.matching", None)
    output = tmp_path / "memoire.docx"
    code, _out, err = _run(str(RC), "--company", company.name, "--output", str(output))
    assert code == 1 and "projects.matching" in err
    assert not Project.objects.exists() and not output.exists()
