"""The admin's start page: the company's projects in progress with their next action and
deadline (closest first), library blocks expired or expiring within 60 days, memoirs
being indexed or failed, the month's generation spend against the budget, recent
activity; menus grouped by what people do; another company's rows never shown; a
number of queries that does not grow with the company."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit import services as audit
from library.models import ContentBlock
from tests.factories import (
    CompanyFactory,
    ContentBlockFactory,
    GenerationRequestFactory,
    MemoireFactory,
    ProjectDocumentFactory,
    ProjectFactory,
    SuperuserFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

INDEX = "admin:index"


def french_client(user) -> Client:
    client = Client(headers={"accept-language": "fr"})
    client.force_login(user)
    return client


def text(response) -> str:
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def section(page: str, title: str, end: str) -> str:
    return page.split(title, 1)[1].split(end, 1)[0]


@pytest.fixture
def company():
    return CompanyFactory(
        name="Bâtir Ensemble", settings={"generation_budget": {"monthly_cost_usd": 50}}
    )


@pytest.fixture
def admin_user(company):
    return UserFactory(company=company, admin=True, full_name="Claire Martin")


def _expiring(company, title, days):
    block = ContentBlockFactory(company=company, title=title)
    ContentBlock.objects.filter(pk=block.pk).update(
        valid_until=timezone.localdate() + datetime.timedelta(days=days)
    )
    return block


def _fill(company, n: int) -> None:
    now = timezone.now()
    for i in range(n):
        ProjectFactory(
            company=company, status="rc_analyzed", deadline=now + datetime.timedelta(days=40 + i)
        )
        _expiring(company, f"Attestation {i}", 10 + i)
        MemoireFactory(company=company, indexed=False)
        GenerationRequestFactory(project__company=company, completed=True)


def test_the_start_page_shows_what_to_do_next(company, admin_user):
    now = timezone.now()
    later = ProjectFactory(
        company=company, name="Gymnase", status="draft", deadline=now + datetime.timedelta(days=20)
    )
    soon = ProjectFactory(
        company=company,
        name="Collège Jean Moulin",
        status="rc_analyzed",
        deadline=now + datetime.timedelta(days=5),
    )
    ProjectFactory(company=company, name="Piscine déposée", status="submitted")
    ready = ProjectFactory(company=company, name="Crèche des Lilas", status="draft")
    ProjectDocumentFactory(project=ready)  # its RC is uploaded: what is left is to analyse it
    _expiring(company, "CV — Marc Dubois", -3)
    _expiring(company, "Qualibat 2111", 30)
    _expiring(company, "ISO 9001", 200)
    MemoireFactory(company=company, filename="memoire-ecole.pdf", indexed=False)
    MemoireFactory(
        company=company,
        filename="memoire-casse.pdf",
        indexed=False,
        metadata={"index": {"status": "failed", "error": "PDF illisible"}},
    )
    MemoireFactory(company=company, filename="memoire-ok.pdf", indexed=True)
    GenerationRequestFactory(project=soon, completed=True, cost_usd=Decimal("12.50"))
    audit.record_object(
        "update", soon, user=admin_user, changes={"name": {"old": "Collège", "new": soon.name}}
    )
    other = CompanyFactory()
    ProjectFactory(company=other, name="Projet d’un concurrent")
    _expiring(other, "Bloc d’un concurrent", 1)
    GenerationRequestFactory(project__company=other, completed=True, cost_usd=Decimal("99"))

    response = french_client(admin_user).get(reverse(INDEX))
    assert response.status_code == 200
    page = text(response)
    projects = section(page, "Projets en cours", "Bibliothèque :")
    assert projects.index("Collège Jean Moulin") < projects.index("Gymnase")  # closest first
    assert "RC analysé" in projects
    assert "Vérifier l’analyse du RC, puis rapprocher le contenu de la bibliothèque" in projects
    assert (
        "Gymnase Brouillon Déposer le RC (règlement de la consultation) et l’analyser" in projects
    )
    assert "Crèche des Lilas Brouillon Lancer l’analyse du RC déposé" in projects
    assert "Piscine déposée" not in page and "concurrent" not in page
    library = section(page, "Bibliothèque : périmé ou expirant dans les 60 jours", "Mémoires")
    assert "CV — Marc Dubois" in library and "périmé depuis le" in library
    assert "Qualibat 2111" in library and "expire le" in library
    assert "ISO 9001" not in library
    memoirs = section(page, "Mémoires en cours d’indexation ou en échec", "Dépenses")
    assert "memoire-ecole.pdf En cours d’indexation" in memoirs
    assert "memoire-casse.pdf Échec de l’indexation : PDF illisible" in memoirs
    assert "memoire-ok.pdf" not in memoirs
    assert "12,50 $ sur un budget de 50,00 $ (25 %)" in page
    assert "Claire Martin a modifié le projet « Collège Jean Moulin » : nom" in page
    html = response.content.decode()
    assert reverse("admin:projects_project_change", args=[soon.pk]) in html
    assert str(later.pk) in html


def test_menus_are_grouped_by_what_people_do(admin_user):
    response = french_client(admin_user).get(reverse(INDEX))
    menus = {
        str(m["name"]): [str(x["name"]) for x in m["models"]] for m in response.context["app_list"]
    }
    assert list(menus) == [
        "Projets d’appel d’offres",
        "Bibliothèque",
        "Mémoires",
        "Entreprise",
        "Journal",
    ]
    # What people use first, the technical tables after (dimmed, without an add link).
    assert menus["Projets d’appel d’offres"][0] == "Projets"
    assert menus["Bibliothèque"][0] == "Blocs de contenu"
    assert menus["Mémoires"] == ["Mémoires", "Extraits de document"]
    assert menus["Journal"] == ["Journal d’audit", "Tâches de fond"]
    html = response.content.decode()
    assert 'class="model-documentchunk technical-model' in html
    assert reverse("admin:library_blockfile_add") not in html


@pytest.mark.parametrize("role", ["user", "viewer"])
def test_other_roles_see_the_work_but_not_the_trail(company, role):
    ProjectFactory(company=company, name="Gymnase", status="draft")
    user = UserFactory(company=company, role=role)
    page = text(french_client(user).get(reverse(INDEX)))
    assert "Gymnase" in page
    # The next action is for those who may act on the project.
    assert ("Déposer le RC" in page) is (role == "user")
    assert "Activité récente" not in page
    assert "Journal d’audit" not in page


def test_without_a_budget_the_spend_is_shown_alone(admin_user, company):
    company.settings = {}
    company.save()
    page = text(french_client(admin_user).get(reverse(INDEX)))
    assert "0,00 $ (aucun budget mensuel défini)" in page


def test_a_superuser_gets_the_platform_view(company):
    ProjectFactory(company=company, name="Gymnase", status="draft")
    ProjectFactory(company=CompanyFactory(name="Autre BTP"), name="Lycée", status="draft")
    page = text(french_client(SuperuserFactory()).get(reverse(INDEX)))
    assert "Vue plateforme" in page
    assert "Gymnase" in page and "Lycée" in page and "Autre BTP" in page


@pytest.mark.parametrize("who", ["admin", "superuser"])
def test_the_start_page_queries_do_not_grow_with_the_company(company, admin_user, who):
    user = admin_user if who == "admin" else SuperuserFactory()
    client = french_client(user)
    url = reverse(INDEX)
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    _fill(company, 2)
    small = count()
    _fill(company, 12)
    assert count() == small
    assert small <= 20, small
