"""Approving content matches: expired content, or content that expires before the
project's deadline, is approved only with a reason, which the audit log keeps."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditLog
from library.models import BlockType
from projects import services
from projects.models import ContentMatch
from tests.admin_helpers import META, admin_client, audit_ids, new_audit_rows, run_action
from tests.factories import (
    ContentBlockFactory,
    ContentMatchFactory,
    ProjectFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def cert(company, until: datetime.date, title="Qualibat 2112"):
    return ContentBlockFactory(
        company=company,
        type=BlockType.CERTIFICATION,
        title=title,
        metadata={
            "scheme": "qualibat",
            "number": "QB-1",
            "body": "Qualibat",
            "valid_until": until.isoformat(),
        },
    )


@pytest.fixture
def member():
    return UserFactory()


@pytest.fixture
def project(member):
    deadline = timezone.now() + datetime.timedelta(days=30)
    return ProjectFactory(company=member.company, deadline=deadline, name="Collège Jean-Moulin")


def test_expired_content_is_not_approved_without_a_reason(member, project):
    expired = cert(member.company, TODAY - datetime.timedelta(days=1))
    match = ContentMatchFactory(project=project, blocks=[expired])
    before = audit_ids()
    with pytest.raises(services.OutdatedContent) as refused:
        services.set_approval(member.company, [match], True, override_reason="   ")
    [item] = refused.value.outdated
    assert (item.block_id, item.expired, item.valid_until) == (
        expired.pk,
        True,
        expired.valid_until,
    )
    match.refresh_from_db()
    assert match.approved is False and new_audit_rows(before) == []


def test_content_expiring_before_the_deadline_is_refused_too(member, project):
    deadline_day = timezone.localdate(project.deadline)
    short = cert(member.company, deadline_day - datetime.timedelta(days=1), "Expire avant")
    through = cert(member.company, deadline_day, "Valable le jour limite")
    undated = ContentBlockFactory(company=member.company, type=BlockType.PROCEDURE)
    refused = ContentMatchFactory(project=project, blocks=[short, undated])
    accepted = ContentMatchFactory(project=project, blocks=[through, undated])
    [item] = services.outdated_blocks(member.company, [refused, accepted])
    assert (item.title, item.expired, item.needed_on) == ("Expire avant", False, deadline_day)
    assert services.set_approval(member.company, [accepted], True) == 1
    with pytest.raises(services.OutdatedContent):
        services.set_approval(member.company, [refused, accepted], True)
    # A project without a deadline needs its content valid today only.
    project.deadline = None
    project.save()
    assert services.set_approval(member.company, [refused], True) == 1


def test_an_override_names_its_reason_in_the_audit_log(member, project):
    expired = cert(member.company, TODAY - datetime.timedelta(days=10))
    valid = cert(member.company, TODAY + datetime.timedelta(days=400), "Valable")
    overridden = ContentMatchFactory(project=project, blocks=[expired, valid])
    plain = ContentMatchFactory(project=project, blocks=[valid])
    count = services.set_approval(
        member.company,
        [overridden, plain],
        True,
        override_reason="Renouvellement en cours, attestation jointe à l’offre",
    )
    assert count == 2
    assert set(ContentMatch.objects.filter(approved=True)) == {overridden, plain}
    override = AuditLog.objects.get(action="content_match.approve_override")
    assert override.resource_id == overridden.pk
    assert override.details["override"]["reason"] == (
        "Renouvellement en cours, attestation jointe à l’offre"
    )
    [block] = override.details["override"]["blocks"]
    assert block["block_id"] == str(expired.pk) and block["expired"] is True
    assert AuditLog.objects.get(action="content_match.approve").resource_id == plain.pk


def test_rejecting_needs_no_reason(member, project):
    expired = cert(member.company, TODAY - datetime.timedelta(days=1))
    match = ContentMatchFactory(project=project, blocks=[expired], approved=True)
    assert services.set_approval(member.company, [match], False) == 1


def test_another_companys_blocks_are_not_read(member, project):
    foreign = cert(UserFactory().company, TODAY - datetime.timedelta(days=1), "Secret")
    match = ContentMatchFactory(project=project, matched_blocks=[foreign.pk])
    assert services.outdated_blocks(member.company, [match]) == []
    assert services.outdated_blocks(foreign.company, [match]) == []  # not its match


# --- the admin action ------------------------------------------------------------------------


def test_the_admin_asks_for_the_reason_then_approves(member, project):
    client = admin_client(member)
    expired = cert(member.company, TODAY - datetime.timedelta(days=3), "Qualibat périmé")
    match = ContentMatchFactory(project=project, blocks=[expired], requirement_id="RS-02")

    page = run_action(client, ContentMatch, "approve", [match], **META)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Qualibat périmé" in html and "RS-02" in html and 'name="override_reason"' in html
    match.refresh_from_db()
    assert match.approved is False

    confirm = {"action": "approve", "override": "yes", "_selected_action": [str(match.pk)]}
    url = reverse("admin:projects_contentmatch_changelist")
    again = client.post(url, {**confirm, "override_reason": "  "}, **META)
    assert again.status_code == 200 and "Give the reason" in again.content.decode()
    match.refresh_from_db()
    assert match.approved is False

    before = audit_ids()
    done = client.post(url, {**confirm, "override_reason": "Renouvellement déposé"}, **META)
    assert done.status_code == 302
    match.refresh_from_db()
    assert match.approved is True
    [entry] = new_audit_rows(before)
    assert entry.action == "content_match.approve_override"
    assert entry.user_id == member.pk
    assert entry.details["override"]["reason"] == "Renouvellement déposé"


def test_the_change_form_cannot_approve_nor_add_expired_content_to_an_approved_match(
    member, project
):
    client = admin_client(member)
    valid = cert(member.company, TODAY + datetime.timedelta(days=400), "Valable")
    expired = cert(member.company, TODAY - datetime.timedelta(days=3), "Périmé")
    pending = ContentMatchFactory(project=project, blocks=[expired])
    approved = ContentMatchFactory(project=project, blocks=[valid], approved=True)
    from tests.admin_helpers import change_form

    _page, data = change_form(client, pending)
    assert "approved" not in data
    client.post(
        reverse("admin:projects_contentmatch_change", args=[pending.pk]),
        {**data, "approved": "on"},
    )
    pending.refresh_from_db()
    assert pending.approved is False

    _page, data = change_form(client, approved)
    data["matched_blocks"] = f"{valid.pk},{expired.pk}"
    response = client.post(reverse("admin:projects_contentmatch_change", args=[approved.pk]), data)
    assert response.status_code == 200
    assert "reject the match first" in response.content.decode()
    approved.refresh_from_db()
    assert approved.matched_blocks == [valid.pk]
