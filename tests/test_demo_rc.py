"""The demo's tender with its RC waiting (``load_demo_rc``, run by scripts/serve-demo)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from projects.models import DocumentKind, Project, ProjectStatus
from projects.rc import services as rc_services
from tenants.models import Company

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.RC_ANALYSIS_BACKEND = "parser"


def test_the_demo_project_gets_its_rc_once_and_it_can_be_analysed():
    call_command("loaddata", "demo", verbosity=0)
    call_command("load_demo_rc", verbosity=0)
    call_command("load_demo_rc", verbosity=0)  # run again by every serve-demo

    company = Company.objects.get(pk="de000000-0000-4000-8000-000000000001")
    project = Project.objects.for_company(company).get(name__startswith="Salle multisports")
    assert project.status == ProjectStatus.DRAFT
    assert project.documents.filter(kind=DocumentKind.RC).count() == 1

    job = rc_services.queue_analysis(company, project, now=True)
    project.refresh_from_db()
    assert job.error in (None, ""), job.error
    assert project.status == ProjectStatus.RC_ANALYZED
    names = [c["name"] for c in project.rc_analysis.scoring_criteria["criteria"]]
    assert "Valeur technique" in names
