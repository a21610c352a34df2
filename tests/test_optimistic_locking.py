"""Content blocks cannot lose an update: a change form opened before someone else saved
the block is refused, naming who changed it, and every saved change bumps the version
by exactly one."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import formats, timezone, translation

from audit.models import AuditLog
from library.models import ContentBlock
from library.services import StaleBlock, lock_block_version
from tests.admin_helpers import META, admin_client, change_form
from tests.factories import CompanyFactory, ContentBlockFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def company():
    return CompanyFactory()


@pytest.fixture
def block(company):
    # A type whose metadata has no required key: these tests are about versions.
    return ContentBlockFactory(
        company=company,
        type="company-profile",
        title="Grue à tour",
        content="Grue Potain MDT 219.",
        tags=["levage"],
    )


@pytest.fixture
def alice(company):
    return UserFactory(company=company, full_name="Alice Martin")


@pytest.fixture
def bruno(company):
    return UserFactory(company=company, full_name="Bruno Petit")


def _url(block):
    return reverse("admin:library_contentblock_change", args=[block.pk])


def _save(client, block, data):
    return client.post(_url(block), data, **META)


def _updates(block):
    return AuditLog.objects.filter(action="content_block.update", resource_id=block.pk)


def test_the_form_carries_the_version_it_was_opened_at(block, alice):
    _response, data = change_form(admin_client(alice), block)
    assert data["expected_version"] == "1"


def test_a_stale_form_is_refused_naming_who_saved_first(block, alice, bruno):
    client_a, client_b = admin_client(alice), admin_client(bruno)
    _r, form_a = change_form(client_a, block)
    _r, form_b = change_form(client_b, block)

    form_a["title"] = "Grue à tour (révisée)"
    response = _save(client_a, block, form_a)
    assert response.status_code == 302, response.context and response.context["errors"]
    block.refresh_from_db()
    assert (block.title, block.version) == ("Grue à tour (révisée)", 2)

    form_b["content"] = "Grue Liebherr 150 EC-B."
    form_b["tags"] = "levage,grue"
    response = _save(client_b, block, form_b)
    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert len(errors) == 1
    assert "Alice Martin" in errors[0]
    assert "version 2" in errors[0]
    assert "not saved" in errors[0]
    assert "Alice Martin" in response.content.decode()

    block.refresh_from_db()
    assert block.title == "Grue à tour (révisée)"
    assert block.content == "Grue Potain MDT 219."
    assert block.tags == ["levage"]
    assert block.version == 2
    assert [e.user_id for e in _updates(block)] == [alice.pk]


def test_saving_again_after_reloading_works(block, alice, bruno):
    client_a, client_b = admin_client(alice), admin_client(bruno)
    _r, form_b = change_form(client_b, block)
    _r, form_a = change_form(client_a, block)
    form_a["title"] = "Titre d'Alice"
    assert _save(client_a, block, form_a).status_code == 302

    form_b["content"] = "Contenu de Bruno"
    assert _save(client_b, block, form_b).status_code == 200

    _r, form_b = change_form(client_b, block)  # reload: Alice's change and version 2
    assert form_b["expected_version"] == "2"
    assert form_b["title"] == "Titre d'Alice"
    form_b["content"] = "Contenu de Bruno"
    assert _save(client_b, block, form_b).status_code == 302

    block.refresh_from_db()
    assert (block.title, block.content, block.version) == (
        "Titre d'Alice",
        "Contenu de Bruno",
        3,
    )
    assert [e.user_id for e in _updates(block).order_by("timestamp")] == [alice.pk, bruno.pk]


def test_the_message_names_the_last_person_who_saved(block, alice, bruno, company):
    chloe = UserFactory(company=company, full_name="Chloé Roux")
    client_a, client_b, client_c = admin_client(alice), admin_client(bruno), admin_client(chloe)
    _r, stale = change_form(client_c, block)
    for client, title in ((client_a, "Par Alice"), (client_b, "Par Bruno")):
        _r, form = change_form(client, block)
        form["title"] = title
        assert _save(client, block, form).status_code == 302

    stale["title"] = "Par Chloé"
    response = _save(client_c, block, stale)
    [error] = response.context["adminform"].form.non_field_errors()
    assert "Bruno Petit" in error
    assert "Alice Martin" not in error
    assert "version 3" in error
    block.refresh_from_db()
    assert (block.title, block.version) == ("Par Bruno", 3)


def test_the_message_falls_back_to_the_email(block, company, bruno):
    anonymous = UserFactory(company=company, full_name="", email="sans.nom@example.com")
    client_x, client_b = admin_client(anonymous), admin_client(bruno)
    _r, form_b = change_form(client_b, block)
    _r, form_x = change_form(client_x, block)
    form_x["title"] = "Nouveau titre"
    assert _save(client_x, block, form_x).status_code == 302
    response = _save(client_b, block, form_b)
    [error] = response.context["adminform"].form.non_field_errors()
    assert "sans.nom@example.com" in error


def test_each_save_increments_the_version_by_exactly_one(block, alice):
    client = admin_client(alice)
    for expected in range(2, 6):
        _r, form = change_form(client, block)
        form["content"] = f"Révision {expected}"
        assert _save(client, block, form).status_code == 302
        block.refresh_from_db()
        assert block.version == expected
        assert block.content == f"Révision {expected}"
    assert _updates(block).count() == 4


def test_a_refused_save_does_not_change_the_version(block, alice, bruno):
    client_a, client_b = admin_client(alice), admin_client(bruno)
    _r, form_b = change_form(client_b, block)
    _r, form_a = change_form(client_a, block)
    form_a["content"] = "Changé par Alice."
    assert _save(client_a, block, form_a).status_code == 302
    for _attempt in range(3):
        assert _save(client_b, block, form_b).status_code == 200
    block.refresh_from_db()
    assert block.version == 2
    assert _updates(block).count() == 1


def test_the_version_cannot_be_set_from_the_form(block, alice):
    client = admin_client(alice)
    _r, form = change_form(client, block)
    form["version"] = "42"
    form["title"] = "Titre"
    assert _save(client, block, form).status_code == 302
    block.refresh_from_db()
    assert block.version == 2


def test_a_new_block_starts_at_version_one(company, alice):
    client = admin_client(alice)
    response = client.get(reverse("admin:library_contentblock_add"))
    assert response.status_code == 200
    data = {
        "type": "methodology-template",
        "title": "Procédure de levage",
        "content": "Plan de levage validé avant chaque opération.",
        "metadata": "{}",
        "tags": "levage",
        "is_active": "on",
        "expected_version": "",
        "block_files-TOTAL_FORMS": "0",
        "block_files-INITIAL_FORMS": "0",
        "block_files-MIN_NUM_FORMS": "0",
        "block_files-MAX_NUM_FORMS": "1000",
    }
    response = client.post(reverse("admin:library_contentblock_add"), data, **META)
    assert response.status_code == 302, response.context and response.context["errors"]
    block = ContentBlock.objects.get(title="Procédure de levage")
    assert (block.version, block.company, block.created_by) == (1, company, alice)


@pytest.mark.django_db(transaction=True)
def test_a_save_in_flight_is_waited_for_not_overwritten():
    """The version is read under a row lock: an editor whose check runs while another
    save is still uncommitted waits for it, then sees the new version and is refused
    (a plain read would still see the old version and let both saves through)."""
    block = ContentBlockFactory()
    locked, release = threading.Event(), threading.Event()

    def other_editor():
        try:
            with transaction.atomic():
                lock_block_version(block.company_id, block.pk, 1)
                ContentBlock.objects.filter(pk=block.pk).update(version=2)
                locked.set()
                release.wait(5)
        finally:
            connection.close()

    thread = threading.Thread(target=other_editor)
    thread.start()
    try:
        assert locked.wait(5)
        threading.Timer(0.3, release.set).start()
        with pytest.raises(StaleBlock) as refused, transaction.atomic():
            lock_block_version(block.company_id, block.pk, 1)
        assert refused.value.current_version == 2
    finally:
        release.set()
        thread.join(5)


@pytest.mark.django_db(transaction=True)
def test_the_lock_needs_a_transaction():
    block = ContentBlockFactory()
    with pytest.raises(RuntimeError):
        lock_block_version(block.company_id, block.pk, 1)


def test_the_message_gives_the_time_of_the_change_in_local_time(block, alice, bruno):
    client_a, client_b = admin_client(alice), admin_client(bruno)
    _r, form_b = change_form(client_b, block)
    _r, form_a = change_form(client_a, block)
    form_a["content"] = "Changé par Alice."
    assert _save(client_a, block, form_a).status_code == 302
    saved_at = _updates(block).get().timestamp
    response = _save(client_b, block, form_b)
    [error] = response.context["adminform"].form.non_field_errors()
    with translation.override("en"):
        expected = formats.date_format(timezone.localtime(saved_at), "DATETIME_FORMAT")
        utc = formats.date_format(saved_at.astimezone(datetime.UTC), "DATETIME_FORMAT")
    assert expected != utc  # the project's time zone is not UTC
    assert f"Alice Martin ({expected})" in error


def test_saving_without_a_change_keeps_the_version_and_leaves_no_gap(block, alice, bruno):
    """An unchanged save is not a new version: the history has no hole, and a
    colleague's open form is not made stale by it."""
    client_a, client_b = admin_client(alice), admin_client(bruno)
    _r, form_b = change_form(client_b, block)
    _r, form_a = change_form(client_a, block)
    assert _save(client_a, block, form_a).status_code == 302
    block.refresh_from_db()
    assert block.version == 1 and not block.versions.exists()
    form_b["content"] = "Changé par Bruno."
    assert _save(client_b, block, form_b).status_code == 302
    block.refresh_from_db()
    assert (block.version, block.content) == (2, "Changé par Bruno.")
    assert list(block.versions.values_list("version", flat=True)) == [1]
