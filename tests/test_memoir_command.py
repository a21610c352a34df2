"""``manage.py memoir_from_rc`` (issue 15): the whole flow from an RC file to a DOCX,
through the real analysis, matching, generation and export."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command

from library.choices import BlockType
from library.models import ContentBlock
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
    for block_type, title, content in (
        (
            BlockType.PERSON_CV,
            "CV — Chef de chantier",
            "Chef de chantier gros œuvre, encadrement des équipes, 15 ans d'expérience.",
        ),
        (
            BlockType.EQUIPMENT,
            "Grue mobile 50 t",
            "Moyens matériels : grue mobile de 50 tonnes pour le levage des charpentes.",
        ),
        (
            BlockType.METHODOLOGY_TEMPLATE,
            "Méthodologie d'exécution des travaux",
            "Méthodologie d'exécution : phasage, installation de chantier, contrôles.",
        ),
        (
            BlockType.PROCEDURE,
            "Sécurité du chantier",
            "Dispositions prises pour la sécurité du chantier : PPSPS, accueil sécurité.",
        ),
    ):
        ContentBlockFactory(
            company=company, created_by=user, type=block_type, title=title, content=content
        )
    return company


def _run(*args):
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("memoir_from_rc", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_the_whole_flow_from_an_rc_to_a_docx(company, tmp_path):
    output = tmp_path / "memoire.docx"
    code, out, err = _run(
        str(RC), "--company", company.name, "--output", str(output), "--approve-above", "0.45"
    )
    assert code == 0, err
    project = Project.objects.get(company=company)
    assert project.status == ProjectStatus.GENERATED
    assert project.name.startswith("Construction d'une salle multisports")
    matches = ContentMatch.objects.filter(project=project)
    approved = matches.filter(approved=True)
    # The real matching proposed the methodology for its criterion, and what scored
    # at or above the threshold is what was approved.
    assert approved.count() == matches.filter(confidence__gte=0.45).count() > 0
    methodology = approved.get(requirement_id="C1.1")
    assert methodology.matched_blocks == [
        ContentBlock.objects.get(company=company, title="Méthodologie d'exécution des travaux").pk
    ]
    sections = list(Section.objects.filter(project=project).order_by("order_num"))
    assert [s.section_type for s in sections] == ["C1.1", "C1.2", "C1.3"]
    assert MemoirExport.objects.filter(project=project).count() == 1
    headings = [
        p.text for p in docx.Document(str(output)).paragraphs if p.style.name.startswith("Heading")
    ]
    assert "1. Valeur technique" in headings and "1.2 Moyens humains et matériels" in headings
    # C1.1 (30 points of the technical 60) has approved content, C1.2 and C1.3 none.
    assert "Valeur technique" in out and "Couverture : 30.0 / 60.0 points" in out
    assert "phasage, installation de chantier" in sections[0].content
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
def test_bad_input_is_one_french_line_and_exit_1(company, tmp_path, args, message):
    output = tmp_path / "memoire.docx"
    code, _out, err = _run(*args, "--output", str(output))
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1
    assert not output.exists() and not Project.objects.exists()


def test_a_failure_midway_leaves_nothing_half_written(company, tmp_path, monkeypatch):
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
