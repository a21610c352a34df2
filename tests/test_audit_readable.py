"""The audit trail as people read it: French sentences with names and links, the
changes as a table of field labels, one time zone, search by person, object and action,
filters, an object's history page with the same entries, and a changelist whose
number of queries does not grow with its rows."""

from __future__ import annotations

import datetime
import re
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit import services as audit
from audit.models import AuditLog
from library.models import ContentBlock
from tests.factories import (
    CompanyFactory,
    ContentBlockFactory,
    ProjectFactory,
    SectionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:audit_auditlog_changelist"


def french_client(user) -> Client:
    client = Client(headers={"accept-language": "fr"})
    client.force_login(user)
    return client


def text(response) -> str:
    """The page as a reader sees it: tags removed, entities decoded, spaces folded."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


@pytest.fixture
def company():
    return CompanyFactory(name="Bâtisseurs Réunis")


@pytest.fixture
def admin_user(company):
    return UserFactory(company=company, admin=True, full_name="Claire Martin")


@pytest.fixture
def julien(company):
    return UserFactory(company=company, full_name="Julien Moreau", email="julien@example.com")


@pytest.fixture
def cv(company, julien):
    return ContentBlockFactory(company=company, type="person-cv", title="CV — Marc Dubois")


def _cv_change(cv, julien) -> AuditLog:
    """What the admin writes when Julien renames the CV and adds a qualification."""
    return audit.record_object(
        "update",
        cv,
        user=julien,
        changes={
            "title": {"old": "CV Marc Dubois", "new": "CV — Marc Dubois"},
            "metadata": {
                "old": {"qualifications": []},
                "new": {"qualifications": [{"kind": "caces", "label": "R482"}]},
            },
        },
    )


def test_an_update_reads_as_a_french_sentence_with_links(admin_user, julien, cv):
    _cv_change(cv, julien)
    response = french_client(admin_user).get(reverse(CHANGELIST))
    assert response.status_code == 200
    page = text(response)
    assert "Julien Moreau a modifié le bloc « CV — Marc Dubois » : titre, qualifications" in page
    html = response.content.decode()
    assert reverse("admin:tenants_user_change", args=[julien.pk]) in html
    assert reverse("admin:library_contentblock_change", args=[cv.pk]) in html
    assert "content_block.update" not in page
    assert str(cv.pk) not in page and str(julien.pk) not in page


def test_the_entry_shows_the_changes_by_field_label_in_paris_time(admin_user, julien, cv):
    entry = _cv_change(cv, julien)
    response = french_client(admin_user).get(
        reverse("admin:audit_auditlog_change", args=[entry.pk])
    )
    assert response.status_code == 200
    page = text(response)
    assert "Titre CV Marc Dubois → CV — Marc Dubois" in page
    assert "Qualifications — →" in page  # from no qualification to one
    paris = entry.timestamp.astimezone(datetime.timezone(datetime.timedelta(hours=1)))
    shown = paris.strftime("%d/%m/%Y %H:%M")
    # The title (the entry's name) and its date field show the same Paris time.
    assert page.count(shown) >= 2, (shown, page)
    assert entry.timestamp.astimezone(datetime.UTC).strftime("%H:%M") not in page.replace(shown, "")
    assert '"old"' not in page and "{" not in page.split("Modifications", 1)[-1]


def test_names_stay_readable_after_the_person_and_the_object_are_deleted(admin_user, julien, cv):
    entry = _cv_change(cv, julien)
    ContentBlock.objects.filter(pk=cv.pk).delete()
    julien.delete()
    client = french_client(admin_user)
    page = text(client.get(reverse(CHANGELIST)))
    assert "Julien Moreau a modifié le bloc « CV — Marc Dubois »" in page
    html = client.get(reverse(CHANGELIST)).content.decode()
    assert reverse("admin:library_contentblock_change", args=[cv.pk]) not in html
    detail = text(client.get(reverse("admin:audit_auditlog_change", args=[entry.pk])))
    assert "CV — Marc Dubois (bloc de contenu, n’existe plus)" in detail


def test_a_deletion_keeps_the_values_with_their_labels_and_choice_names(admin_user, company):
    project = ProjectFactory(company=company, name="Collège Jean Moulin", status="draft")
    audit.record_objects(
        "delete",
        [project],
        details_for=lambda p: {"values": audit.redact(audit.snapshot(p))},
    )
    entry = AuditLog.objects.filter(action="project.delete").get()
    page = text(
        french_client(admin_user).get(reverse("admin:audit_auditlog_change", args=[entry.pk]))
    )
    assert "Le système a supprimé le projet « Collège Jean Moulin »" in page
    assert "Valeurs au moment de la suppression" in page
    assert "Statut Brouillon" in page
    assert " draft " not in f" {page} "


def _listed(client, **params) -> set:
    response = client.get(reverse(CHANGELIST), params)
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}


def test_search_by_person_object_and_action(admin_user, julien, cv, company):
    change = _cv_change(cv, julien)
    section = SectionFactory(project=ProjectFactory(company=company), title="Planning")
    other = audit.record_object("create", section, user=admin_user)
    client = french_client(admin_user)
    assert change.pk in _listed(client, q="julien@example")
    assert other.pk not in _listed(client, q="julien@example")
    assert _listed(client, q="Moreau") >= {change.pk}
    assert other.pk not in _listed(client, q="Moreau")
    assert _listed(client, q="Marc Dubois") == {change.pk}
    assert change.pk in _listed(client, q="modification")
    assert other.pk not in _listed(client, q="modification")
    assert other.pk in _listed(client, q="création")
    # Once Julien is deleted, his entries are still found by his name and email.
    julien.delete()
    assert change.pk in _listed(client, q="julien@example")
    assert change.pk in _listed(client, q="Julien Moreau")


def test_another_companys_people_are_not_searched_or_offered(admin_user, company):
    stranger = UserFactory(full_name="Zoé Étrangère", email="zoe@ailleurs.example")
    theirs = audit.record("user.login", user=stranger, resource_type="user")
    client = french_client(admin_user)
    assert _listed(client, q="zoe@ailleurs") == set()
    response = client.get(reverse(CHANGELIST))
    assert "Zoé Étrangère" not in response.content.decode()
    assert theirs.pk not in _listed(client)


def test_filters_by_person_and_object_type(admin_user, julien, cv, company):
    change = _cv_change(cv, julien)
    project = ProjectFactory(company=company, name="Gymnase")
    other = audit.record_object("create", project, user=admin_user)
    client = french_client(admin_user)
    response = client.get(reverse(CHANGELIST))
    page = text(response)
    assert "Par personne" in page and "Par type d’objet" in page
    assert "Julien Moreau" in page and "Blocs de contenu" in page
    assert _listed(client, person=str(julien.pk)) == {change.pk}
    assert _listed(client, type="project") == {other.pk}
    assert _listed(client, verb="update") == {change.pk}


def test_the_objects_history_page_shows_the_same_entries(admin_user, julien, cv):
    _cv_change(cv, julien)
    client = french_client(admin_user)
    response = client.get(reverse("admin:library_contentblock_history", args=[cv.pk]))
    assert response.status_code == 200
    page = text(response)
    assert "Julien Moreau a modifié le bloc « CV — Marc Dubois » : titre, qualifications" in page
    assert "Titre CV Marc Dubois → CV — Marc Dubois" in page
    # A user of the company reads the history of a block they can see, too.
    assert (
        french_client(julien)
        .get(reverse("admin:library_contentblock_history", args=[cv.pk]))
        .status_code
        == 200
    )


def test_another_companys_object_has_no_history_page(admin_user):
    theirs = ContentBlockFactory()
    response = french_client(admin_user).get(
        reverse("admin:library_contentblock_history", args=[theirs.pk])
    )
    assert response.status_code == 302  # as for an id that does not exist


def test_the_changelist_queries_do_not_grow_with_its_rows(admin_user, company):
    def entries(n: int) -> None:
        for i in range(n):
            user = UserFactory(company=company)
            block = ContentBlockFactory(company=company, title=f"Bloc {i}")
            project = ProjectFactory(company=company, name=f"Projet {i}")
            _cv_change(block, user)
            audit.record_object("create", project, user=user)
            audit.record("user.login", user=user, resource_type="user", resource_id=user.pk)

    client = french_client(admin_user)
    url = reverse(CHANGELIST)
    client.get(url)  # warm the session and caches

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    entries(2)
    small = count()
    entries(12)
    assert count() == small
    assert small <= 20, small


def test_bookkeeping_fields_stay_out_of_the_sentence(admin_user, julien, cv):
    audit.record_object(
        "update",
        cv,
        user=julien,
        changes={
            "title": {"old": "CV", "new": "CV — Marc Dubois"},
            "version": {"old": 1, "new": 2},
            "updated_at": {"old": "2026-01-01T10:00:00+00:00", "new": "2026-02-01T10:00:00+00:00"},
        },
    )
    client = french_client(admin_user)
    response = client.get(reverse(CHANGELIST))
    page = text(response)
    assert "a modifié le bloc « CV — Marc Dubois » : titre" in page
    assert "titre, version" not in page and "modifié le 0" not in page
    assert "2 entrées" in page  # the login of the client and this change
    # Only the kinds of objects the admin shows are offered in the filter.
    assert "Sessions" not in page and "Procrastinate" not in page


def test_the_block_versions_list_changed_fields_by_label(admin_user, company):
    from library.models import ContentBlockVersion

    block = ContentBlockFactory(company=company, type="person-cv", title="CV — Marc Dubois")
    ContentBlockVersion.objects.create(
        block=block,
        version=1,
        replaced_by=admin_user,
        changes={
            "title": {"old": "CV", "new": block.title},
            "metadata": {"old": {}, "new": {"qualifications": []}},
        },
        type=block.type,
        title="CV",
        content=block.content,
        metadata={},
        tags=[],
        is_active=True,
    )
    page = text(
        french_client(admin_user).get(
            reverse("admin:library_contentblock_versions", args=[block.pk])
        )
    )
    assert "titre, qualifications" in page
    assert "title, metadata" not in page


def test_facts_read_with_their_labels_choice_names_and_french_dates(admin_user, julien, cv):
    entry = audit.record_object(
        "update",
        cv,
        user=julien,
        changes={
            "metadata": {
                "old": {"qualifications": []},
                "new": {
                    "qualifications": [
                        {
                            "kind": "sst",
                            "label": "SST",
                            "expires_on": "2027-10-14",
                            "mandatory": True,
                        }
                    ]
                },
            }
        },
    )
    page = text(
        french_client(admin_user).get(reverse("admin:audit_auditlog_change", args=[entry.pk]))
    )
    assert "Qualifications — → Qualification : SST (sauveteur secouriste du travail)" in page
    assert "Expire le : 14/10/2027" in page and "Requise : oui" in page
    assert "expires_on" not in page and "2027-10-14" not in page and "Kind" not in page


def test_workflow_logins_and_system_actions_read_as_sentences(admin_user, company):
    from projects import workflow

    project = ProjectFactory(company=company, name="Gymnase", status="draft")
    request = type("R", (), {"user": admin_user, "META": {}})()
    workflow.move(company, project, "rc_analyzing", request=request)
    audit.record(
        "user.login_failed",
        company_id=company.pk,
        resource_type="user",
        details={"email": "x@y.fr"},
    )
    audit.record_object("index", project, extra={"error": "PDF illisible"})
    page = text(french_client(admin_user).get(reverse(CHANGELIST)))
    assert (
        "Claire Martin a fait passer le projet « Gymnase » à l’étape « Analyse du RC en cours »"
        in page
    ), page
    assert "Échec de connexion pour « x@y.fr »" in page
    assert "L’indexation a échoué pour le projet « Gymnase » : PDF illisible" in page
