"""The findings of the security review: each has a test that failed on the code it was
found in and passes now."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from audit.models import AuditLog
from config import storage
from projects.models import Section
from tenants.models import User
from tests.admin_helpers import admin_client, form_data, run_action
from tests.factories import (
    DEFAULT_PASSWORD,
    CompanyFactory,
    MemoireFactory,
    ProjectFactory,
    SectionFactory,
    SuperuserFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


# --- no escalation ---------------------------------------------------------------------


@pytest.fixture
def company():
    return CompanyFactory()


@pytest.fixture
def operator(company):
    """A platform superuser who was given the company (the admin allows it)."""
    return SuperuserFactory(company=company, full_name="Opératrice Plateforme")


def _user_urls(pk) -> dict[str, str]:
    urls = {
        view: reverse(f"admin:tenants_user_{view}", args=[pk])
        for view in ("change", "delete", "history")
    }
    urls["password"] = reverse("admin:auth_user_password_change", args=[pk])
    return urls


@pytest.mark.parametrize("role", ["admin", "user", "viewer"])
def test_company_members_never_reach_a_superuser_of_their_company(company, operator, role):
    member = UserFactory(company=company, role=role)
    client = admin_client(member)
    listing = client.get(reverse("admin:tenants_user_changelist")).content.decode()
    assert operator.email not in listing and member.email in listing
    missing = uuid.uuid4()
    for view, url in _user_urls(operator.pk).items():
        for method in ("get", "post"):
            theirs = getattr(client, method)(url, {"password1": "x", "password2": "x"})
            unknown = getattr(client, method)(
                _user_urls(missing)[view], {"password1": "x", "password2": "x"}
            )
            assert (theirs.status_code, view, method) == (unknown.status_code, view, method)
            assert theirs.status_code in (302, 403, 404)
    before = User.objects.filter(pk=operator.pk).values().get()
    for action in ("delete_selected", "unlock"):
        run_action(client, User, action, [operator], data={"post": "yes"})
    assert User.objects.filter(pk=operator.pk).values().get() == before
    assert not AuditLog.objects.filter(action="user.unlock", resource_id=operator.pk).exists()


def test_a_company_admin_cannot_change_a_superusers_password(company, operator):
    client = admin_client(UserFactory(company=company, role="admin"))
    response = client.post(
        reverse("admin:auth_user_password_change", args=[operator.pk]),
        {"password1": "Pirate-2026-Motdepasse", "password2": "Pirate-2026-Motdepasse"},
    )
    assert response.status_code in (302, 404)
    operator.refresh_from_db()
    assert operator.check_password(DEFAULT_PASSWORD)
    assert not admin_client().login(username=operator.email, password="Pirate-2026-Motdepasse")


def test_superusers_still_manage_superusers(company, operator):
    client = admin_client(SuperuserFactory())
    assert operator.email in client.get(reverse("admin:tenants_user_changelist")).content.decode()
    assert client.get(_user_urls(operator.pk)["change"]).status_code == 200


# --- foreign ≡ nonexistent ---------------------------------------------------------------


def test_an_inline_row_of_another_company_is_refused_like_a_random_id(company):
    mine = ProjectFactory(company=company)
    theirs = SectionFactory(project=ProjectFactory(company=CompanyFactory()), title="Leur section")
    SectionFactory(project=mine, title="Ma section")
    client = admin_client(UserFactory(company=company, role="user"))
    change = reverse("admin:projects_project_change", args=[mine.pk])
    data = form_data(client.get(change))
    answers = []
    for forged in (theirs.pk, uuid.uuid4()):
        post = {**data, "sections-0-id": str(forged), "sections-0-title": "Écrasé"}
        response = client.post(change, post)
        answers.append(
            (
                response.status_code,
                [
                    e
                    for errors in response.context["inline_admin_formsets"][1].formset.errors
                    for e in errors.get("id", [])
                ]
                if response.status_code == 200
                else None,
            )
        )
    assert answers[0] == answers[1] and answers[0][0] == 200
    assert Section.objects.get(pk=theirs.pk).title == "Leur section"


def test_an_email_used_elsewhere_is_refused_with_the_message_of_any_refused_email(company):
    other = UserFactory(company=CompanyFactory(), email="pris@ailleurs.example")
    colleague = UserFactory(company=company, email="pris@ici.example")
    client = admin_client(UserFactory(company=company, role="admin"))
    messages = []
    for email in (other.email, colleague.email.upper()):
        response = client.post(
            reverse("admin:tenants_user_add"),
            {
                "email": email,
                "full_name": "Nouveau",
                "role": "viewer",
                "usable_password": "true",
                "password1": "Un-Mot-De-Passe-Solide-2026",
                "password2": "Un-Mot-De-Passe-Solide-2026",
            },
        )
        messages.append(response.context["adminform"].form.errors["email"])
    assert messages[0] == messages[1] == ["This email address cannot be used: choose another one."]


# --- headers, downloads, login redirect -----------------------------------------------------


def test_downloads_take_their_type_from_the_content_and_are_never_rendered(
    company, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    user = UserFactory(company=company)
    memoire = MemoireFactory(company=company, uploaded_by=user, filename="rapport.html")
    memoire.storage_path = default_storage.save(
        storage.memoir_path(company.pk, memoire.pk, "rapport.html"),
        ContentFile(b"<html><script>alert('x')</script>Texte du rapport</html>"),
    )
    memoire.save()
    response = admin_client(user).get(reverse("admin:rag_memoire_download", args=[memoire.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_admin_pages_carry_a_content_security_policy_and_a_permissions_policy(company):
    response = admin_client(UserFactory(company=company)).get(reverse("admin:index"))
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert "camera=()" in response["Permissions-Policy"]


def test_a_login_with_an_unsafe_next_lands_on_the_admin_index(company):
    user = UserFactory(company=company)
    client = admin_client()
    response = client.post(
        reverse("admin:login"),
        {"username": user.email, "password": DEFAULT_PASSWORD, "next": "https://evil.example/"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")


def test_a_nul_byte_in_the_query_string_is_a_bad_request(company):
    client = admin_client(UserFactory(company=company))
    response = client.get(reverse("admin:projects_project_changelist"), {"q": "a\x00b"})
    assert response.status_code == 400
