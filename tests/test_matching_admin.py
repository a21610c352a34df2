"""The approval page of a project (proposals grouped by criterion, one click per row,
a block added by title, the override for outdated content, read-only for viewers,
another company's ids as missing ones) and the coverage by points."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditLog
from library.models import BlockType
from projects import coverage, matching
from projects.models import ContentMatch
from tests.admin_helpers import META, admin_client
from tests.factories import (
    ContentBlockFactory,
    ContentMatchFactory,
    RCAnalysisFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def member():
    return UserFactory()


@pytest.fixture
def analysis(member):
    return RCAnalysisFactory(project__company=member.company, project__name="Collège Jean-Moulin")


@pytest.fixture
def client(member):
    return admin_client(member)


def page(project):
    return reverse("admin:projects_project_matching", args=[project.pk])


def decide(project):
    return reverse("admin:projects_project_matching_decide", args=[project.pk])


def method_block(company, **kwargs):
    return ContentBlockFactory(
        company=company,
        type=BlockType.METHODOLOGY_TEMPLATE,
        title=kwargs.pop("title", "Méthodologie gros œuvre"),
        **kwargs,
    )


def expired_cert(company):
    return ContentBlockFactory(
        company=company,
        type=BlockType.CERTIFICATION,
        title="Qualibat 2019",
        metadata={
            "scheme": "qualibat",
            "number": "QB-1",
            "body": "Qualibat",
            "valid_until": (TODAY - datetime.timedelta(days=2)).isoformat(),
        },
    )


def test_the_page_groups_proposals_by_criterion(client, member, analysis):
    block = method_block(member.company)
    ContentMatchFactory(
        project=analysis.project, requirement_id="C1.1", blocks=[block], match_reason="termes"
    )
    response = client.get(page(analysis.project))
    assert response.status_code == 200
    html = response.content.decode()
    assert "C1 — Valeur technique" in html and 'id="req-C1.1"' in html
    assert "Méthodologie gros œuvre" in html and "Prix" not in html.split("<h2>", 1)[1]
    assert html.index('id="req-C1.1"') < html.index("Méthodologie gros œuvre")


def test_one_click_approves_and_rejects(client, member, analysis):
    block = method_block(member.company)
    match = ContentMatchFactory(project=analysis.project, requirement_id="C1.1", blocks=[block])
    response = client.post(
        decide(analysis.project), {"match": match.pk, "decision": "approve"}, **META
    )
    assert response.status_code == 302
    match.refresh_from_db()
    assert match.approved and not match.rejected
    client.post(decide(analysis.project), {"match": match.pk, "decision": "reject"}, **META)
    match.refresh_from_db()
    assert not match.approved and match.rejected
    actions = sorted(AuditLog.objects.filter(resource_id=match.pk).values_list("action", flat=True))
    assert actions == ["content_match.approve", "content_match.reject"]


def test_approving_an_expired_block_asks_for_the_override(client, member, analysis):
    old = expired_cert(member.company)
    match = ContentMatchFactory(project=analysis.project, requirement_id="C1.2", blocks=[old])
    response = client.post(decide(analysis.project), {"match": match.pk, "decision": "approve"})
    assert response.status_code == 200
    assert 'id="override-form"' in response.content.decode()
    match.refresh_from_db()
    assert not match.approved
    # An empty reason is refused again.
    response = client.post(
        decide(analysis.project),
        {"match": match.pk, "decision": "approve", "override": "yes", "override_reason": " "},
    )
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    match.refresh_from_db()
    assert not match.approved
    response = client.post(
        decide(analysis.project),
        {
            "match": match.pk,
            "decision": "approve",
            "override": "yes",
            "override_reason": "Renouvellement en cours",
        },
    )
    assert response.status_code == 302
    match.refresh_from_db()
    assert match.approved
    entry = AuditLog.objects.get(resource_id=match.pk, action="content_match.approve_override")
    assert entry.details["override"]["reason"] == "Renouvellement en cours"


def test_a_block_is_added_by_searching_its_title(client, member, analysis):
    block = method_block(member.company, title="Planning de phasage des travaux")
    method_block(member.company, title="Autre chose", is_active=False)
    response = client.get(page(analysis.project), {"search": "phasage", "requirement": "R1"})
    html = response.content.decode()
    assert "Planning de phasage des travaux" in html and "Autre chose" not in html
    response = client.post(
        decide(analysis.project), {"decision": "add", "requirement": "R1", "block": block.pk}
    )
    assert response.status_code == 302
    row = ContentMatch.objects.get(project=analysis.project, requirement_id="R1")
    assert row.matched_blocks == [block.pk] and row.approved
    # A requirement the analysis has not is refused.
    client.post(
        decide(analysis.project), {"decision": "add", "requirement": "RS-99", "block": block.pk}
    )
    assert not ContentMatch.objects.filter(requirement_id="RS-99").exists()


def test_viewers_read_the_page_without_buttons_and_cannot_decide(member, analysis):
    block = method_block(member.company)
    match = ContentMatchFactory(project=analysis.project, requirement_id="C1.1", blocks=[block])
    viewer = admin_client(UserFactory(company=member.company, viewer=True))
    response = viewer.get(page(analysis.project))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Méthodologie gros œuvre" in html and 'name="decision"' not in html
    response = viewer.post(decide(analysis.project), {"match": match.pk, "decision": "approve"})
    assert response.status_code == 403
    match.refresh_from_db()
    assert not match.approved


def test_another_companys_ids_are_missing_ones(client, member, analysis):
    other = RCAnalysisFactory()
    foreign_block = method_block(other.project.company)
    foreign = ContentMatchFactory(
        project=other.project, requirement_id="C1.1", blocks=[foreign_block]
    )
    missing = client.post(decide(analysis.project), {"match": uuid.uuid4(), "decision": "approve"})
    response = client.post(decide(analysis.project), {"match": foreign.pk, "decision": "approve"})
    assert missing.status_code == response.status_code == 404
    foreign.refresh_from_db()
    assert not foreign.approved
    assert client.get(page(other.project)).status_code == 404
    assert (
        client.get(
            page(analysis.project).replace(str(analysis.project.pk), str(uuid.uuid4()))
        ).status_code
        == 404
    )
    # Another company's block cannot be added either.
    client.post(
        decide(analysis.project),
        {"decision": "add", "requirement": "R1", "block": foreign_block.pk},
    )
    assert not ContentMatch.objects.filter(project=analysis.project).exists()
    # Nor found by the title search.
    html = client.get(
        page(analysis.project), {"search": "Méthodologie", "requirement": "R1"}
    ).content.decode()
    assert str(foreign_block.pk) not in html


def test_run_button_queues_matching(client, member, analysis):
    response = client.post(
        reverse("admin:projects_project_matching_run", args=[analysis.project.pk])
    )
    assert response.status_code == 302
    analysis.project.refresh_from_db()
    assert analysis.project.status == "matching"


def test_the_project_page_runs_the_matching_once_the_rc_is_analysed(client, member, analysis):
    """The next action of an analysed project is a button of its page's workflow panel."""
    project = analysis.project
    url = reverse("admin:projects_project_change", args=[project.pk])
    run = reverse("admin:projects_project_matching_run", args=[project.pk])
    html = client.get(url).content.decode()
    assert f'action="{run}"' in html and 'name="match"' in html
    viewer = admin_client(UserFactory(company=member.company, viewer=True))
    assert 'name="match"' not in viewer.get(url).content.decode()
    response = client.post(run)
    assert response.status_code == 302 and response.url == page(project)
    project.refresh_from_db()
    assert project.status == "matching"
    # Running, then matched: the approval page is where it runs again.
    assert 'name="match"' not in client.get(url).content.decode()


# --- coverage ------------------------------------------------------------------------------


def test_coverage_is_weighted_by_points_and_lists_gaps_first(member, analysis):
    project = analysis.project
    block = method_block(member.company)
    # R1 serves C1.1 (40 % of the score): approving it covers C1.1.
    ContentMatchFactory(project=project, requirement_id="R1", blocks=[block], approved=True)
    ContentMatchFactory(project=project, requirement_id="C1.2", blocks=[block], approved=False)
    result = coverage.coverage(member.company, project)
    [line] = result.lines  # the price is left out
    assert (line.id, line.share) == ("C1", 0.6)
    subs = {c.id: c for c in line.children}
    assert subs["C1.1"].approved == 1 and subs["C1.1"].percent_covered == 100
    assert subs["C1.2"].approved == 0 and subs["C1.2"].percent_covered == 0
    assert result.percent == 67  # 0.4 of 0.6
    assert [g.id for g in result.gaps] == ["C1.2"]
    assert result.gaps[0].gap_text.endswith("20 %: no approved content")
    # Approving C1.2 covers the whole technical score.
    ContentMatch.objects.filter(project=project, requirement_id="C1.2").update(approved=True)
    result = coverage.coverage(member.company, project)
    assert result.percent == 100 and result.gaps == []


def test_coverage_of_another_company_sees_nothing(member, analysis):
    other = RCAnalysisFactory()
    assert coverage.coverage(other.project.company, analysis.project) is None


def test_the_project_page_shows_the_coverage_and_the_gaps(client, member, analysis):
    response = client.get(reverse("admin:projects_project_change", args=[analysis.project.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "0 % of the technical score is covered" in html
    assert html.index("Méthodologie — 40 %: no approved content") < html.index(
        'class="coverage-table"'
    )
    assert page(analysis.project) in html


def test_approve_helper_for_other_services(member, analysis):
    block = method_block(member.company)
    match = ContentMatchFactory(project=analysis.project, requirement_id="C1.1", blocks=[block])
    assert matching.approve(member.company, match, user=member) == 1
    entry = AuditLog.objects.get(resource_id=match.pk, action="content_match.approve")
    assert entry.user_id == member.pk


def test_adding_an_expired_block_asks_for_the_override(client, member, analysis):
    old = expired_cert(member.company)
    response = client.post(
        decide(analysis.project), {"decision": "add", "requirement": "C1.2", "block": old.pk}
    )
    assert response.status_code == 200 and 'id="override-form"' in response.content.decode()
    row = ContentMatch.objects.get(project=analysis.project, requirement_id="C1.2")
    assert row.matched_blocks == [old.pk] and not row.approved


@pytest.mark.parametrize("block", ["pas-un-uuid", "", str(uuid.uuid4())])
def test_a_bad_block_id_is_a_french_message_not_an_error(client, member, analysis, block):
    response = client.post(
        decide(analysis.project), {"decision": "add", "requirement": "R1", "block": block}
    )
    assert response.status_code == 302
    assert not ContentMatch.objects.filter(project=analysis.project).exists()


def test_a_match_typed_by_hand_must_name_a_requirement_of_the_analysis(client, member, analysis):
    block = method_block(member.company)
    add = reverse("admin:projects_contentmatch_add")
    data = {"project": analysis.project.pk, "matched_blocks": str(block.pk), "confidence": "0.5"}
    refused = client.post(add, {**data, "requirement_id": "RS-99"})
    assert refused.status_code == 200
    assert "RS-99" in str(refused.context["adminform"].form.errors["requirement_id"])
    assert client.post(add, {**data, "requirement_id": "C1.2"}).status_code == 302
    assert ContentMatch.objects.filter(project=analysis.project, requirement_id="C1.2").exists()
