"""Titles, buttons and error pages of the admin in natural French: articles with the
right gender and elision (``tenants.admin_base.grammar``), labels of stored codes,
the values of database defaults in add forms, French 403/404/500 pages in the
admin's style."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation

from config import labels
from library.models import ContentBlock
from projects.models import Section
from tenants.admin_base import grammar
from tenants.models import Company, User
from tests.factories import (
    ContentBlockFactory,
    ProjectFactory,
    SectionFactory,
    SuperuserFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def french_client(user) -> Client:
    client = Client(headers={"accept-language": "fr"})
    client.force_login(user)
    return client


def title(response) -> str:
    return unescape(re.search(r"<title>(.*?)</title>", response.content.decode(), re.S)[1])


def h1(response) -> str:
    return unescape(re.search(r"<h1[^>]*>(.*?)</h1>", response.content.decode(), re.S)[1])


def test_the_phrases_take_the_gender_and_the_elision_of_the_name():
    with translation.override("fr"):
        assert grammar.change_title(Company) == "Modification de l’entreprise"
        assert grammar.add_title(User) == "Ajout d’un utilisateur"
        assert grammar.add_button(User) == "Ajouter un utilisateur"
        assert grammar.add_title(ContentBlock) == "Ajout d’un bloc de contenu"
        assert grammar.add_title(Section) == "Ajout d’une section"
        assert grammar.change_title(Section) == "Modification de la section"
        assert grammar.view_title(ContentBlock) == "Consultation du bloc de contenu"
        assert grammar.definite(ContentBlock, "CV") == "le bloc « CV »"
    with translation.override("en"):
        assert grammar.change_title(Company) == "Changing company"


def test_every_registered_model_has_its_gender_stated():
    from django.contrib import admin

    missing = [
        m._meta.label_lower
        for m in admin.site._registry
        if m._meta.label_lower not in grammar.GENDERS
    ]
    assert missing == []


def test_page_titles_and_buttons(company_admin_and_block):
    admin_user, block = company_admin_and_block
    client = french_client(admin_user)
    response = client.get(reverse("admin:tenants_company_change", args=[admin_user.company_id]))
    assert h1(response) == "Modification de l’entreprise"
    assert "| Modification de l’entreprise |" in title(response)
    assert h1(client.get(reverse("admin:tenants_user_add"))) == "Ajout d’un utilisateur"
    assert h1(client.get(reverse("admin:library_contentblock_add"))) == "Ajout d’un bloc de contenu"
    listing = client.get(reverse("admin:tenants_user_changelist"))
    assert h1(listing) == "Utilisateurs"
    assert "Ajouter un utilisateur" in listing.content.decode()
    viewer = UserFactory(company=admin_user.company, viewer=True)
    response = french_client(viewer).get(
        reverse("admin:library_contentblock_change", args=[block.pk])
    )
    assert h1(response) == "Consultation du bloc de contenu"


@pytest.fixture
def company_admin_and_block():
    admin_user = UserFactory(admin=True)
    return admin_user, ContentBlockFactory(company=admin_user.company)


def test_add_forms_show_the_database_defaults_not_their_repr():
    admin_user = UserFactory(admin=True)
    client = french_client(admin_user)
    for name in ("tenants_user", "projects_project", "library_contentblock", "projects_section"):
        html = client.get(reverse(f"admin:{name}_add")).content.decode()
        assert "DatabaseDefault" not in html and "object at 0x" not in html, name
    html = client.get(reverse("admin:tenants_user_add")).content.decode()
    # The role a new user gets from the database default is preselected.
    assert re.search(r'<option value="user" selected>', html)


def test_section_types_show_as_labels():
    admin_user = UserFactory(admin=True)
    SectionFactory(
        project=ProjectFactory(company=admin_user.company), section_type="moyens_humains"
    )
    html = (
        french_client(admin_user).get(reverse("admin:projects_section_changelist")).content.decode()
    )
    text = unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<script\b.*?</script>", "", html, flags=re.S)))
    assert "Moyens humains" in text
    assert "moyens_humains" not in text
    with translation.override("fr"):
        assert labels.label("section_type", "moyens_materiels") == "Moyens matériels"
        assert labels.label("section_type", "gestion_des_dechets") == "Gestion des dechets"


def test_a_refused_action_shows_the_french_403_page():
    viewer = UserFactory(viewer=True)
    response = french_client(viewer).post(reverse("admin:library_contentblock_add"), {"title": "x"})
    assert response.status_code == 403
    page = unescape(response.content.decode())
    assert "Accès refusé" in page and "Votre rôle ne permet pas" in page
    assert "Enpyco — mémoires techniques" in page  # the admin's header
    assert "Forbidden" not in page


def test_a_missing_page_is_the_french_404_page():
    response = french_client(UserFactory(admin=True)).get("/admin/nulle-part/")
    assert response.status_code == 404
    page = unescape(response.content.decode())
    assert "Page introuvable" in page and "Not Found" not in page


def test_a_server_error_is_the_french_500_page():
    from config import views

    request = RequestFactory(headers={"accept-language": "fr"}).get("/admin/")
    with translation.override("fr"):
        response = views.server_error(request)
    assert response.status_code == 500
    page = unescape(response.content.decode())
    assert "Erreur du serveur" in page and "Enpyco — mémoires techniques" in page


def test_a_superuser_sees_the_same_titles():
    client = french_client(SuperuserFactory())
    assert h1(client.get(reverse("admin:projects_section_add"))) == "Ajout d’une section"


def test_save_and_delete_messages_need_no_gender():
    from django.contrib.messages import get_messages

    from tests.admin_helpers import change_form

    admin_user = UserFactory(admin=True)
    client = french_client(admin_user)
    project = ProjectFactory(company=admin_user.company, name="Gymnase")
    section = SectionFactory(project=project, title="Planning")
    _response, data = change_form(client, section)
    data["title"] = "Planning des travaux"
    response = client.post(reverse("admin:projects_section_change", args=[section.pk]), data)
    assert response.status_code == 302
    messages = [
        unescape(re.sub(r"<[^>]+>", "", str(m))) for m in get_messages(response.wsgi_request)
    ]
    assert "Modifications enregistrées : section « Planning des travaux »." in messages, messages
    response = client.post(
        reverse("admin:projects_section_delete", args=[section.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    messages = [unescape(str(m)) for m in get_messages(response.wsgi_request)]
    assert "Suppression effectuée : section « Planning des travaux »." in messages, messages


def test_a_refused_form_without_its_token_shows_the_french_page():
    client = Client(enforce_csrf_checks=True, headers={"accept-language": "fr"})
    response = client.post(reverse("admin:login"), {"username": "x@example.com", "password": "y"})
    assert response.status_code == 403
    page = unescape(response.content.decode())
    assert "Le formulaire avait expiré" in page and "Enpyco — mémoires techniques" in page
    assert "Forbidden" not in page and "CSRF" not in page


def test_groups_get_french_titles_and_permission_names():
    client = french_client(SuperuserFactory())
    response = client.get(reverse("admin:auth_group_add"))
    assert h1(response) == "Ajout d’un groupe"
    page = unescape(response.content.decode())
    assert "Bibliothèque de contenus | bloc de contenu | droit d’ajout" in page
    assert "Can add" not in page


def test_the_inline_add_button_needs_no_gender():
    admin_user = UserFactory(admin=True)
    project = ProjectFactory(company=admin_user.company)
    html = unescape(
        french_client(admin_user)
        .get(reverse("admin:projects_project_change", args=[project.pk]))
        .content.decode()
    )
    assert "Ajouter une ligne (Section)" in html
    assert "Ajouter un objet" not in html
