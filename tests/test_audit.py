"""The audit trail: one row per change made through the admin (inlines and bulk
deletions included), with the diff, the user, the company, the address and the browser;
logins, logouts and failed logins; no password hash ever; append-only in PostgreSQL
itself; and who may read it in the admin."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditLog
from library.models import ContentBlock
from projects.models import Section
from tenants.models import User
from tests.admin_helpers import (
    IP,
    META,
    USER_AGENT,
    admin_client,
    audit_ids,
    change_form,
    form_data,
    new_audit_rows,
    row_json,
    run_action,
)
from tests.factories import (
    DEFAULT_PASSWORD,
    AuditLogFactory,
    CompanyFactory,
    ContentBlockFactory,
    PastProjectFactory,
    ProjectFactory,
    SectionFactory,
    SuperuserFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def company():
    return CompanyFactory()


@pytest.fixture
def member(company):
    return UserFactory(company=company, full_name="Marie Curie")


@pytest.fixture
def client(member):
    return admin_client(member)


def _assert_row(entry, action, user, obj, company_id):
    assert entry.action == action
    assert entry.user_id == user.pk
    assert entry.company_id == company_id
    assert entry.resource_type == action.split(".")[0]
    assert entry.resource_id == obj.pk
    assert entry.ip_address == IP
    assert entry.user_agent == USER_AGENT


# --- create / update / delete through the admin ---------------------------------------


def test_create_writes_one_row_with_the_new_values(client, member, company):
    before = audit_ids()
    response = client.post(
        reverse("admin:library_contentblock_add"),
        {
            "type": "company-profile",
            "title": "Pelle hydraulique 25 t",
            "content": "Pelle sur chenilles, godet 1 m³.",
            "other-facts-key": "marque",  # a fact of its own, as a row (name, value)
            "other-facts-value": "Liebherr",
            "tags": "terrassement,engins",
            "is_active": "on",
            "block_files-TOTAL_FORMS": "0",
            "block_files-INITIAL_FORMS": "0",
            "block_files-MIN_NUM_FORMS": "0",
            "block_files-MAX_NUM_FORMS": "1000",
        },
        **META,
    )
    assert response.status_code == 302, response.context and response.context["errors"]
    block = ContentBlock.objects.get(title="Pelle hydraulique 25 t")
    [entry] = new_audit_rows(before)
    _assert_row(entry, "content_block.create", member, block, company.pk)
    changes = entry.details["changes"]
    assert changes["title"] == {"old": None, "new": "Pelle hydraulique 25 t"}
    assert changes["type"] == {"old": None, "new": "company-profile"}
    assert changes["tags"] == {"old": None, "new": ["terrassement", "engins"]}
    assert changes["metadata"] == {"old": None, "new": {"marque": "Liebherr"}}
    assert changes["company_id"] == {"old": None, "new": str(company.pk)}
    assert changes["created_by_id"] == {"old": None, "new": str(member.pk)}
    assert changes["version"] == {"old": None, "new": 1}
    assert entry.details["object"] == "Pelle hydraulique 25 t"


def test_update_writes_one_row_with_exactly_the_changed_fields(client, member, company):
    reference = PastProjectFactory(company=company, name="Groupe scolaire", year=2019)
    _r, data = change_form(client, reference)
    data["name"] = "Groupe scolaire Victor Hugo"
    data["year"] = "2021"
    before = audit_ids()
    response = client.post(
        reverse("admin:library_pastproject_change", args=[reference.pk]), data, **META
    )
    assert response.status_code == 302, response.context and response.context["errors"]
    [entry] = new_audit_rows(before)
    _assert_row(entry, "past_project.update", member, reference, company.pk)
    assert entry.details["changes"] == {
        "name": {"old": "Groupe scolaire", "new": "Groupe scolaire Victor Hugo"},
        "year": {"old": 2019, "new": 2021},
    }


def test_content_block_update_row(client, member, company):
    block = ContentBlockFactory(company=company, type="company-profile", title="Ancien titre")
    _r, data = change_form(client, block)
    data["title"] = "Nouveau titre"
    before = audit_ids()
    response = client.post(
        reverse("admin:library_contentblock_change", args=[block.pk]), data, **META
    )
    assert response.status_code == 302
    block.refresh_from_db()
    [entry] = new_audit_rows(before)
    _assert_row(entry, "content_block.update", member, block, company.pk)
    changes = entry.details["changes"]
    # The title, and what every save changes: the version and the update time.
    assert set(changes) == {"title", "version", "updated_at"}
    assert changes["title"] == {"old": "Ancien titre", "new": "Nouveau titre"}
    assert changes["version"] == {"old": 1, "new": 2}
    assert changes["updated_at"]["new"] == block.updated_at.isoformat()


def test_saving_without_changes_writes_no_update_row(client, company):
    reference = PastProjectFactory(company=company)
    _r, data = change_form(client, reference)
    before = audit_ids()
    response = client.post(
        reverse("admin:library_pastproject_change", args=[reference.pk]), data, **META
    )
    assert response.status_code == 302
    assert new_audit_rows(before) == []


def test_delete_writes_one_row_with_the_old_values(client, member, company):
    block = ContentBlockFactory(company=company, title="Bloc à supprimer")
    before = audit_ids()
    response = client.post(
        reverse("admin:library_contentblock_delete", args=[block.pk]), {"post": "yes"}, **META
    )
    assert response.status_code == 302
    assert not ContentBlock.objects.filter(pk=block.pk).exists()
    [entry] = new_audit_rows(before)
    _assert_row(entry, "content_block.delete", member, block, company.pk)
    assert entry.details["object"] == "Bloc à supprimer"
    assert entry.details["values"]["title"] == "Bloc à supprimer"
    assert entry.details["values"]["id"] == str(block.pk)


def test_bulk_delete_writes_one_row_per_object(client, member, company):
    blocks = ContentBlockFactory.create_batch(3, company=company)
    kept = ContentBlockFactory(company=company)
    before = audit_ids()
    response = run_action(
        client, ContentBlock, "delete_selected", blocks, data={"post": "yes"}, **META
    )
    assert response.status_code == 302
    assert list(ContentBlock.objects.filter(company=company)) == [kept]
    rows = new_audit_rows(before)
    assert len(rows) == 3
    assert sorted(r.resource_id for r in rows) == sorted(b.pk for b in blocks)
    for entry in rows:
        block = next(b for b in blocks if b.pk == entry.resource_id)
        _assert_row(entry, "content_block.delete", member, block, company.pk)
        assert entry.details["values"]["title"] == block.title


def test_the_delete_confirmation_page_writes_nothing(client, company):
    block = ContentBlockFactory(company=company)
    before = audit_ids()
    run_action(client, ContentBlock, "delete_selected", [block], **META)  # no "post": asks
    assert ContentBlock.objects.filter(pk=block.pk).exists()
    assert new_audit_rows(before) == []


def test_a_superusers_change_is_filed_under_the_objects_company(company):
    superuser = SuperuserFactory()
    client = admin_client(superuser)
    reference = PastProjectFactory(company=company, name="Avant")
    _r, data = change_form(client, reference)
    data["name"] = "Après"
    before = audit_ids()
    client.post(reverse("admin:library_pastproject_change", args=[reference.pk]), data, **META)
    [entry] = new_audit_rows(before)
    _assert_row(entry, "past_project.update", superuser, reference, company.pk)


# --- inlines -----------------------------------------------------------------------------


@pytest.fixture
def project(company, member):
    # No microseconds: the admin's date/time widgets do not carry them.
    deadline = timezone.now().replace(microsecond=0) + timezone.timedelta(days=20)
    # Text columns are nullable but the admin saves an empty box as "" (Django's rule for
    # text fields): start from "" so that saving the form changes nothing by itself.
    return ProjectFactory(
        company=company,
        created_by=member,
        deadline=deadline,
        rc_context="",
        final_document_url="",
    )


def _project_form(client, project):
    _response, data = change_form(client, project)
    assert "sections-TOTAL_FORMS" in data
    return data


def _post_project(client, project, data):
    return client.post(reverse("admin:projects_project_change", args=[project.pk]), data, **META)


def _section_index(data, section):
    return next(
        key.split("-")[1]
        for key, value in data.items()
        if key.startswith("sections-") and key.endswith("-id") and value == str(section.pk)
    )


def test_inline_update_writes_one_row_for_the_section_only(client, member, company, project):
    first = SectionFactory(project=project, title="Moyens humains", order_num=1)
    SectionFactory(project=project, title="Méthodologie", order_num=2)
    data = _project_form(client, project)
    i = _section_index(data, first)
    data[f"sections-{i}-title"] = "Moyens humains et matériels"
    before = audit_ids()
    response = _post_project(client, project, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    [entry] = new_audit_rows(before)
    _assert_row(entry, "section.update", member, first, company.pk)
    assert entry.details["changes"] == {
        "title": {"old": "Moyens humains", "new": "Moyens humains et matériels"}
    }


def test_inline_create_writes_one_row(client, member, company, project):
    data = _project_form(client, project)
    total = int(data["sections-TOTAL_FORMS"])
    data.update(
        {
            "sections-TOTAL_FORMS": str(total + 1),
            f"sections-{total}-project": str(project.pk),
            f"sections-{total}-order_num": "1",
            f"sections-{total}-section_type": "planning",
            f"sections-{total}-title": "Planning des travaux",
        }
    )
    before = audit_ids()
    response = _post_project(client, project, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    section = Section.objects.get(project=project, title="Planning des travaux")
    [entry] = new_audit_rows(before)
    _assert_row(entry, "section.create", member, section, company.pk)
    assert entry.details["changes"]["title"] == {"old": None, "new": "Planning des travaux"}
    assert entry.details["changes"]["project_id"] == {"old": None, "new": str(project.pk)}


def test_inline_delete_writes_one_row_with_the_sections_id(client, member, company, project):
    doomed = SectionFactory(project=project, title="Section en trop")
    data = _project_form(client, project)
    data[f"sections-{_section_index(data, doomed)}-DELETE"] = "on"
    before = audit_ids()
    response = _post_project(client, project, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    assert not Section.objects.filter(pk=doomed.pk).exists()
    [entry] = new_audit_rows(before)
    assert entry.action == "section.delete"
    assert entry.details["values"]["title"] == "Section en trop"
    _assert_row(entry, "section.delete", member, doomed, company.pk)
    assert entry.details["values"]["id"] == str(doomed.pk)


def test_inline_delete_writes_one_row(client, member, company, project):
    """What works today of the test above: one row, named, with the old values."""
    doomed = SectionFactory(project=project, title="Section en trop")
    data = _project_form(client, project)
    data[f"sections-{_section_index(data, doomed)}-DELETE"] = "on"
    before = audit_ids()
    assert _post_project(client, project, data).status_code == 302
    [entry] = new_audit_rows(before)
    assert entry.action == "section.delete"
    assert (entry.user_id, entry.company_id) == (member.pk, company.pk)
    assert (entry.ip_address, entry.user_agent) == (IP, USER_AGENT)
    assert entry.details["object"] == "Section en trop"
    assert entry.details["values"]["title"] == "Section en trop"


def test_parent_and_inline_changes_in_one_save(client, member, company, project):
    section = SectionFactory(project=project, title="Ancienne", order_num=1)
    data = _project_form(client, project)
    data["client"] = "Département du Nord"
    data[f"sections-{_section_index(data, section)}-title"] = "Nouvelle"
    before = audit_ids()
    assert _post_project(client, project, data).status_code == 302
    rows = {r.action: r for r in new_audit_rows(before)}
    assert set(rows) == {"project.update", "section.update"}
    _assert_row(rows["project.update"], "project.update", member, project, company.pk)
    assert rows["project.update"].details["changes"] == {
        "client": {"old": project.client, "new": "Département du Nord"}
    }
    assert rows["section.update"].details["changes"] == {
        "title": {"old": "Ancienne", "new": "Nouvelle"}
    }


# --- passwords never enter the trail --------------------------------------------------------


@pytest.fixture
def company_admin(company):
    return UserFactory(company=company, admin=True, full_name="Admin de l'entreprise")


def _assert_no_secret(rows, *secrets):
    assert rows
    for entry in rows:
        text = row_json(entry)
        assert "pbkdf2" not in text
        for secret in secrets:
            assert secret not in text


def test_password_change_in_the_admin_writes_no_hash(company_admin, member):
    client = admin_client(company_admin)
    old_hash = member.password
    new_password = "Nouveau-Mot-De-Passe-2027!"
    url = reverse("admin:auth_user_password_change", args=[member.pk])
    before = audit_ids()
    response = client.post(
        url,
        {"usable_password": "true", "password1": new_password, "password2": new_password},
        **META,
    )
    assert response.status_code == 302, response.context and response.context["errors"]
    member.refresh_from_db()
    assert member.check_password(new_password)
    rows = new_audit_rows(before)
    [entry] = rows
    _assert_row(entry, "user.update", company_admin, member, member.company_id)
    assert entry.details["changes"] == {"password": {"old": "[redacted]", "new": "[redacted]"}}
    _assert_no_secret(rows, old_hash, member.password, new_password)


def test_changing_ones_own_password_writes_one_row_without_hash(member, company):
    client = admin_client(member)
    old_hash = member.password
    new_password = "Mon-Nouveau-Secret-2027!"
    before = audit_ids()
    response = client.post(
        reverse("admin:password_change"),
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": new_password,
            "new_password2": new_password,
        },
        **META,
    )
    assert response.status_code == 302, response.context and response.context["errors"]
    member.refresh_from_db()
    assert member.check_password(new_password)
    rows = new_audit_rows(before)
    [entry] = rows
    _assert_row(entry, "user.update", member, member, company.pk)
    assert entry.details["changes"] == {"password": {"old": "[redacted]", "new": "[redacted]"}}
    _assert_no_secret(rows, old_hash, member.password, new_password, DEFAULT_PASSWORD)


def test_a_refused_password_change_writes_nothing(member):
    client = admin_client(member)
    before = audit_ids()
    response = client.post(
        reverse("admin:password_change"),
        {
            "old_password": "faux",
            "new_password1": "Abc-12345-xyz",
            "new_password2": "Abc-12345-xyz",
        },
        **META,
    )
    assert response.status_code == 200
    assert new_audit_rows(before) == []


def test_user_creation_and_deletion_write_no_hash(company_admin, company):
    client = admin_client(company_admin)
    password = "Mot-De-Passe-Initial-2027!"
    before = audit_ids()
    response = client.post(
        reverse("admin:tenants_user_add"),
        {
            "email": "nouveau@example.com",
            "full_name": "Nouveau Collègue",
            "role": "user",
            "usable_password": "true",
            "password1": password,
            "password2": password,
        },
        **META,
    )
    assert response.status_code == 302, response.context and response.context["errors"]
    created = User.objects.get(email="nouveau@example.com")
    [entry] = new_audit_rows(before)
    _assert_row(entry, "user.create", company_admin, created, company.pk)
    assert entry.details["changes"]["password"] == "[redacted]"
    _assert_no_secret([entry], created.password, password)

    hash_ = created.password
    before = audit_ids()
    response = client.post(
        reverse("admin:tenants_user_delete", args=[created.pk]), {"post": "yes"}, **META
    )
    assert response.status_code == 302
    [entry] = new_audit_rows(before)
    _assert_row(entry, "user.delete", company_admin, created, company.pk)
    assert entry.details["values"]["email"] == "nouveau@example.com"
    _assert_no_secret([entry], hash_)


def test_user_change_writes_no_hash(company_admin, member):
    client = admin_client(company_admin)
    _r, data = change_form(client, member)
    data["full_name"] = "Marie Sklodowska-Curie"
    before = audit_ids()
    response = client.post(reverse("admin:tenants_user_change", args=[member.pk]), data, **META)
    assert response.status_code == 302, response.context and response.context["errors"]
    [entry] = new_audit_rows(before)
    assert entry.details["changes"] == {
        "full_name": {"old": "Marie Curie", "new": "Marie Sklodowska-Curie"}
    }
    _assert_no_secret([entry], member.password)


# --- logins ----------------------------------------------------------------------------------


def _login(client, email, password):
    return client.post(
        reverse("admin:login"),
        {"username": email, "password": password, "next": reverse("admin:index")},
        **META,
    )


def test_login_writes_one_row(member, company):
    client = admin_client()
    before = audit_ids()
    response = _login(client, member.email, DEFAULT_PASSWORD)
    assert response.status_code == 302
    [entry] = new_audit_rows(before)
    _assert_row(entry, "user.login", member, member, company.pk)
    _assert_no_secret([entry], DEFAULT_PASSWORD, member.password)


def test_logout_writes_one_row(member, company):
    client = admin_client()
    _login(client, member.email, DEFAULT_PASSWORD)
    before = audit_ids()
    response = client.post(reverse("admin:logout"), **META)
    assert response.status_code == 200
    [entry] = new_audit_rows(before)
    _assert_row(entry, "user.logout", member, member, company.pk)


def test_failed_login_writes_one_row_with_the_email_only(member, company):
    client = admin_client()
    wrong = "Mauvais-Mot-De-Passe-42"
    before = audit_ids()
    response = _login(client, member.email.upper(), wrong)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    [entry] = new_audit_rows(before)
    assert entry.action == "user.login_failed"
    assert entry.user_id is None
    assert entry.company_id == company.pk
    assert (entry.resource_type, entry.resource_id) == ("user", member.pk)
    assert entry.details == {"email": member.email.lower()}
    assert (entry.ip_address, entry.user_agent) == (IP, USER_AGENT)
    _assert_no_secret([entry], wrong, member.password)


def test_failed_login_for_an_unknown_email(db):
    client = admin_client()
    before = audit_ids()
    _login(client, "personne@example.com", "n'importe quoi")
    [entry] = new_audit_rows(before)
    assert entry.action == "user.login_failed"
    assert (entry.user_id, entry.company_id, entry.resource_id) == (None, None, None)
    assert entry.details == {"email": "personne@example.com"}
    assert entry.ip_address == IP
    assert "n'importe quoi" not in row_json(entry)


# --- append-only in PostgreSQL ------------------------------------------------------------


@pytest.fixture
def entry():
    return AuditLogFactory(action="content_block.update", details={"changes": {}})


def _raw(sql, params):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_plain_sql_update_is_refused(entry):
    with pytest.raises(DatabaseError, match=r"permission denied|append-only"):
        _raw("UPDATE audit_log SET action = 'forged' WHERE id = %s", [entry.pk])
    with pytest.raises(DatabaseError, match=r"permission denied|append-only"):
        _raw("UPDATE audit_log SET details = '{}'::jsonb, user_id = NULL", [])
    stored = AuditLog.objects.get(pk=entry.pk)
    assert (stored.action, stored.user_id) == ("content_block.update", entry.user_id)


def test_plain_sql_delete_is_refused(entry):
    with pytest.raises(DatabaseError, match=r"permission denied|append-only"):
        _raw("DELETE FROM audit_log WHERE id = %s", [entry.pk])
    with pytest.raises(DatabaseError, match=r"permission denied|append-only"):
        _raw("DELETE FROM audit_log", [])
    assert AuditLog.objects.filter(pk=entry.pk).exists()


def test_the_orm_is_refused_too(entry):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditLog.objects.filter(pk=entry.pk).update(action="forged")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditLog.objects.filter(pk=entry.pk).delete()
    assert AuditLog.objects.get(pk=entry.pk).action == "content_block.update"


def test_the_trigger_is_installed():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgenabled FROM pg_trigger WHERE tgname = 'audit_log_append_only' "
            "AND tgrelid = 'audit_log'::regclass"
        )
        assert cursor.fetchall() == [("O",)]


def test_inserting_is_allowed(db):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO audit_log (action) VALUES ('system.check') RETURNING id")
        [(pk,)] = cursor.fetchall()
    assert AuditLog.objects.get(pk=pk).action == "system.check"


# --- the audit admin ---------------------------------------------------------------------


@pytest.fixture
def two_companies_entries(company, company_admin):
    other_admin = UserFactory(admin=True)
    mine = AuditLogFactory.create_batch(2, user=company_admin)
    theirs = AuditLogFactory.create_batch(3, user=other_admin)
    nobodys = AuditLogFactory(user=None, action="user.login_failed")
    return mine, theirs, nobodys


def _listed(client):
    response = client.get(reverse("admin:audit_auditlog_changelist"))
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}


def test_a_company_admin_sees_only_their_companys_entries(company_admin, two_companies_entries):
    mine, theirs, _nobodys = two_companies_entries
    client = admin_client(company_admin)
    listed = _listed(client)
    assert {e.pk for e in mine} <= listed
    assert listed == set(
        AuditLog.objects.filter(company_id=company_admin.company_id).values_list("pk", flat=True)
    )
    url = reverse("admin:audit_auditlog_change", args=[theirs[0].pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == reverse("admin:index")
    response = client.get(reverse("admin:audit_auditlog_change", args=[mine[0].pk]))
    assert response.status_code == 200


def test_a_superuser_sees_every_entry(two_companies_entries):
    client = admin_client(SuperuserFactory())
    assert _listed(client) == set(AuditLog.objects.values_list("pk", flat=True))


@pytest.mark.parametrize("role", ["user", "viewer"])
def test_other_roles_cannot_read_the_trail(company, two_companies_entries, role):
    client = admin_client(UserFactory(company=company, role=role))
    assert client.get(reverse("admin:audit_auditlog_changelist")).status_code == 403
    mine = two_companies_entries[0][0]
    assert client.get(reverse("admin:audit_auditlog_change", args=[mine.pk])).status_code == 403


@pytest.mark.parametrize("who", ["company_admin", "superuser"])
def test_nobody_adds_changes_or_deletes_entries(company_admin, two_companies_entries, who):
    user = company_admin if who == "company_admin" else SuperuserFactory()
    client = admin_client(user)
    entry = two_companies_entries[0][0]
    before = AuditLog.objects.count()

    assert client.get(reverse("admin:audit_auditlog_add")).status_code == 403
    assert client.post(reverse("admin:audit_auditlog_add"), {"action": "x"}).status_code == 403
    change_url = reverse("admin:audit_auditlog_change", args=[entry.pk])
    response = client.get(change_url)
    assert response.status_code == 200
    assert form_data(response, "auditlog_form").keys() <= {"csrfmiddlewaretoken"}
    assert client.post(change_url, {"action": "forged"}).status_code == 403
    delete_url = reverse("admin:audit_auditlog_delete", args=[entry.pk])
    assert client.get(delete_url).status_code == 403
    assert client.post(delete_url, {"post": "yes"}).status_code == 403

    response = client.get(reverse("admin:audit_auditlog_changelist"))
    form = response.context["action_form"]
    assert form is None or "delete_selected" not in dict(form.fields["action"].choices)
    run_action(client, AuditLog, "delete_selected", [entry], data={"post": "yes"})

    assert AuditLog.objects.count() == before
    assert AuditLog.objects.get(pk=entry.pk).action == entry.action
