"""The tender workflow through the admin: status transitions (changelist actions and
change-page buttons), marking sections reviewed, approving content matches, and the
cost totals of generation requests."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditLog
from projects import workflow
from projects.models import ContentMatch, Project, ProjectStatus, Section
from tests.admin_helpers import (
    IP,
    META,
    USER_AGENT,
    admin_client,
    audit_ids,
    errors_of,
    messages_of,
    new_audit_rows,
    run_action,
)
from tests.factories import (
    CompanyFactory,
    ContentBlockFactory,
    ContentMatchFactory,
    GenerationRequestFactory,
    ProjectFactory,
    SectionFactory,
    SuperuserFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

S = ProjectStatus
FORWARD = [
    S.DRAFT,
    S.RC_ANALYZING,
    S.RC_ANALYZED,
    S.MATCHING,
    S.MATCHED,
    S.GENERATING,
    S.GENERATED,
    S.REVIEWING,
    S.COMPLETED,
    S.SUBMITTED,
]
STEPS_BACK = [
    (S.RC_ANALYZING, S.DRAFT),
    (S.RC_ANALYZED, S.RC_ANALYZING),
    (S.MATCHING, S.RC_ANALYZED),
    (S.MATCHED, S.MATCHING),
    (S.GENERATING, S.MATCHED),
    (S.GENERATED, S.GENERATING),
    (S.REVIEWING, S.GENERATING),
    (S.COMPLETED, S.REVIEWING),
]
#: The moves a person makes (buttons and actions); the others are made by the jobs
#: that the project page's buttons start (analysis, matching, generation).
MANUAL = {
    (S.RC_ANALYZING, S.DRAFT),
    (S.MATCHING, S.RC_ANALYZED),
    (S.GENERATING, S.MATCHED),
    (S.GENERATED, S.REVIEWING),
    (S.REVIEWING, S.COMPLETED),
    (S.COMPLETED, S.SUBMITTED),
    (S.COMPLETED, S.REVIEWING),
}
MANUAL_BACK = sorted(set(STEPS_BACK) & MANUAL)
JOB_MOVES = sorted((set(itertools.pairwise(FORWARD)) | set(STEPS_BACK)) - MANUAL)


@pytest.fixture
def company():
    return CompanyFactory()


@pytest.fixture
def member(company):
    return UserFactory(company=company)


@pytest.fixture
def client(member):
    return admin_client(member)


def _move_by_action(client, project, target):
    return run_action(client, Project, f"move_to_{target}", [project], **META)


def _move_by_button(client, project, target):
    url = reverse("admin:projects_project_transition", args=[project.pk])
    return client.post(url, {"target": target}, **META)


MOVERS = {"action": _move_by_action, "button": _move_by_button}


def _assert_transition_row(entry, project, user, old, new):
    assert entry.action == "project.transition"
    assert entry.user_id == user.pk
    assert entry.company_id == project.company_id
    assert entry.resource_type == "project"
    assert entry.resource_id == project.pk
    assert entry.details["changes"] == {"status": {"old": old, "new": new}}
    assert entry.ip_address == IP
    assert entry.user_agent == USER_AGENT


# --- the transition table --------------------------------------------------------------


def test_transition_table_covers_every_status_and_only_the_documented_moves():
    assert set(workflow.TRANSITIONS) == set(S.values)
    forward = {(a, b) for a, b in itertools.pairwise(FORWARD)}
    allowed = {(a, b) for a, targets in workflow.TRANSITIONS.items() for b in targets}
    assert allowed == forward | set(STEPS_BACK)
    assert workflow.allowed_targets(S.SUBMITTED) == ()
    manual = {(a, b) for a in S.values for b in workflow.manual_targets(a)}
    assert manual == MANUAL


@pytest.mark.parametrize("how", ["action", "button"])
@pytest.mark.parametrize(("old", "new"), JOB_MOVES)
def test_a_person_cannot_make_a_jobs_move(client, company, how, old, new):
    """Entering "RC being analysed", "Matching content" or "Generating" by hand would
    leave the project waiting for a job nobody started; leaving one forwards would
    claim work that was not done. The buttons that start the work do these moves."""
    project = ProjectFactory(company=company, status=old)
    before = audit_ids()
    page = client.get(reverse("admin:projects_project_change", args=[project.pk]))
    assert (new, S(new).label) not in page.context["transitions"]
    if how == "action" and new in workflow.MANUAL_STATUSES:  # a person's move from elsewhere
        _assert_refused(_move_by_action(client, project, new), [project], [old], before)
    elif how == "action":
        response = client.get(reverse("admin:projects_project_changelist"))
        choices = dict(response.context["action_form"].fields["action"].choices)
        assert f"move_to_{new}" not in choices
    else:
        error = _assert_refused(_move_by_button(client, project, new), [project], [old], before)
        if new in workflow.WORKED_BY_JOBS:
            assert error == (
                f"“{S(new).label}” starts with its work: use the project page's button "
                "(analyse the RC, run the matching, generate the memoir). Nothing was changed."
            )
    project.refresh_from_db()
    assert project.status == old and new_audit_rows(before) == []


# --- allowed moves -----------------------------------------------------------------------


@pytest.mark.parametrize("how", ["action", "button"])
def test_full_forward_path(client, member, company, how):
    # Completed needs every section reviewed, submitted a final document (issue 15).
    project = ProjectFactory(
        company=company, created_by=member, final_document_url="/admin/exports/1/download/"
    )
    SectionFactory(project=project, with_review=True)
    for old, new in itertools.pairwise(FORWARD):
        before = audit_ids()
        if (old, new) not in MANUAL:
            workflow.move(company, project, new)  # as the step's job does
            project.refresh_from_db()
            assert project.status == new
            continue
        response = MOVERS[how](client, project, new)
        assert response.status_code == 302
        assert errors_of(response) == []
        assert [level for level, _ in messages_of(response)] == ["success"]
        project.refresh_from_db()
        assert project.status == new
        rows = new_audit_rows(before)
        assert len(rows) == 1
        _assert_transition_row(rows[0], project, member, old, new)
    assert project.status == S.SUBMITTED


def test_the_button_redirects_to_the_change_page_with_a_message(client, company, member):
    project = ProjectFactory(company=company, name="Gymnase municipal", status=S.GENERATED)
    response = _move_by_button(client, project, S.REVIEWING)
    assert response.status_code == 302
    assert response.url == reverse("admin:projects_project_change", args=[project.pk])
    assert messages_of(response) == [("success", "“Gymnase municipal” moved to “In review”.")]


def test_the_action_moves_several_projects_at_once(client, company, member):
    projects = ProjectFactory.create_batch(3, company=company, status=S.GENERATED)
    before = audit_ids()
    response = run_action(client, Project, "move_to_reviewing", projects, **META)
    assert messages_of(response) == [("success", "3 projects moved to “In review”.")]
    assert set(Project.objects.values_list("status", flat=True)) == {S.REVIEWING}
    rows = new_audit_rows(before)
    assert sorted(r.resource_id for r in rows) == sorted(p.pk for p in projects)
    assert {r.action for r in rows} == {"project.transition"}


@pytest.mark.parametrize("how", ["action", "button"])
@pytest.mark.parametrize(("old", "new"), MANUAL_BACK)
def test_each_step_back(client, company, member, how, old, new):
    project = ProjectFactory(company=company, status=old)
    before = audit_ids()
    response = MOVERS[how](client, project, new)
    assert errors_of(response) == []
    project.refresh_from_db()
    assert project.status == new
    rows = new_audit_rows(before)
    assert len(rows) == 1
    _assert_transition_row(rows[0], project, member, old, new)


def test_change_page_offers_a_button_per_allowed_target(client, company):
    project = ProjectFactory(company=company, status=S.COMPLETED)
    response = client.get(reverse("admin:projects_project_change", args=[project.pk]))
    assert response.context["transitions"] == [
        (S.SUBMITTED, "Submitted"),
        (S.REVIEWING, "In review"),
    ]
    action = reverse("admin:projects_project_transition", args=[project.pk])
    html = response.content.decode()
    assert html.count(f'action="{action}"') == 2
    assert 'name="target" value="submitted"' in html
    assert 'name="target" value="reviewing"' in html


def test_a_submitted_project_offers_no_button(client, company):
    project = ProjectFactory(company=company, status=S.SUBMITTED)
    response = client.get(reverse("admin:projects_project_change", args=[project.pk]))
    assert response.context["transitions"] == []
    assert "admin:projects_project_transition" not in response.content.decode()


# --- forbidden moves ---------------------------------------------------------------------


def _assert_refused(response, projects, statuses, before):
    errors = errors_of(response)
    assert len(errors) == 1, messages_of(response)
    assert "Nothing was changed" in errors[0]
    assert [level for level, _ in messages_of(response)] == ["error"]
    for project, status in zip(projects, statuses, strict=True):
        project.refresh_from_db()
        assert project.status == status
    assert new_audit_rows(before) == []
    return errors[0]


@pytest.mark.parametrize("how", ["action", "button"])
def test_skipping_steps_is_refused(client, company, how):
    project = ProjectFactory(company=company, name="Collège Jean Moulin", status=S.DRAFT)
    before = audit_ids()
    response = MOVERS[how](client, project, S.COMPLETED)
    assert response.status_code == 302
    error = _assert_refused(response, [project], [S.DRAFT], before)
    assert error == (
        "Cannot move to “Completed”: “Collège Jean Moulin” (Draft). Nothing was changed."
    )


@pytest.mark.parametrize(
    ("how", "target"),
    [("action", t) for t in workflow.MANUAL_STATUSES] + [("button", t) for t in S.values],
)
def test_a_submitted_project_cannot_move_anywhere(client, company, how, target):
    project = ProjectFactory(company=company, status=S.SUBMITTED)
    before = audit_ids()
    response = MOVERS[how](client, project, target)
    if how == "button":
        # A submitted project is frozen (issue 15): its page is read-only for everyone.
        assert response.status_code == 403
        project.refresh_from_db()
        assert project.status == S.SUBMITTED and new_audit_rows(before) == []
        return
    _assert_refused(response, [project], [S.SUBMITTED], before)


@pytest.mark.parametrize("how", ["action", "button"])
def test_moving_to_the_current_status_is_refused(client, company, how):
    project = ProjectFactory(company=company, status=S.REVIEWING)
    before = audit_ids()
    _assert_refused(MOVERS[how](client, project, S.REVIEWING), [project], [S.REVIEWING], before)


def test_a_mixed_selection_moves_nothing(client, company):
    movable = ProjectFactory(company=company, name="Crèche", status=S.GENERATED)
    stuck = ProjectFactory(company=company, name="Piscine", status=S.DRAFT)
    before = audit_ids()
    response = run_action(client, Project, "move_to_reviewing", [movable, stuck], **META)
    error = _assert_refused(response, [movable, stuck], [S.GENERATED, S.DRAFT], before)
    assert "“Piscine” (Draft)" in error
    assert "Crèche" not in error


def test_an_unknown_target_is_refused(client, company):
    project = ProjectFactory(company=company, status=S.DRAFT)
    before = audit_ids()
    response = _move_by_button(client, project, "archived")
    assert errors_of(response) == ["Unknown status."]
    project.refresh_from_db()
    assert project.status == S.DRAFT
    assert new_audit_rows(before) == []


def test_the_button_only_accepts_post(client, company):
    project = ProjectFactory(company=company, status=S.DRAFT)
    url = reverse("admin:projects_project_transition", args=[project.pk])
    assert client.get(url, {"target": S.RC_ANALYZING}).status_code == 405
    project.refresh_from_db()
    assert project.status == S.DRAFT


def test_another_companys_project_cannot_be_moved(client):
    foreign = ProjectFactory(status=S.GENERATED)
    before = audit_ids()
    response = _move_by_button(client, foreign, S.REVIEWING)
    assert response.status_code == 302
    assert response.url == reverse("admin:index")
    run_action(client, Project, "move_to_reviewing", [foreign], **META)
    foreign.refresh_from_db()
    assert foreign.status == S.GENERATED
    assert new_audit_rows(before) == []


# --- viewers -----------------------------------------------------------------------------


@pytest.fixture
def viewer_client(company):
    return admin_client(UserFactory(company=company, viewer=True))


def test_a_viewer_gets_no_transition_actions(viewer_client, company):
    ProjectFactory(company=company)
    response = viewer_client.get(reverse("admin:projects_project_changelist"))
    assert response.status_code == 200
    form = response.context["action_form"]  # None: no action at all for a viewer
    choices = dict(form.fields["action"].choices) if form is not None else {}
    assert not any(name.startswith("move_to_") for name in choices)


def test_a_viewer_cannot_move_by_action(viewer_client, company):
    project = ProjectFactory(company=company, status=S.GENERATED)
    before = audit_ids()
    run_action(viewer_client, Project, "move_to_reviewing", [project], **META)
    project.refresh_from_db()
    assert project.status == S.GENERATED
    assert new_audit_rows(before) == []


def test_a_viewer_cannot_move_by_button(viewer_client, company):
    project = ProjectFactory(company=company, status=S.GENERATED)
    before = audit_ids()
    assert _move_by_button(viewer_client, project, S.REVIEWING).status_code == 403
    project.refresh_from_db()
    assert project.status == S.GENERATED
    assert new_audit_rows(before) == []


def test_a_viewer_sees_no_buttons(viewer_client, company):
    project = ProjectFactory(company=company, status=S.DRAFT)
    response = viewer_client.get(reverse("admin:projects_project_change", args=[project.pk]))
    assert response.status_code == 200
    assert "transitions" not in response.context
    assert 'name="target"' not in response.content.decode()


# --- sections: mark reviewed ---------------------------------------------------------------


def test_mark_reviewed(client, company, member):
    project = ProjectFactory(company=company)
    sections = SectionFactory.create_batch(2, project=project)
    already = SectionFactory(project=project, with_review=True)
    first_reviewer, first_reviewed_at = already.reviewer, already.reviewed_at
    before = audit_ids()
    start = timezone.now()
    response = run_action(client, Section, "mark_reviewed", [*sections, already], **META)
    assert messages_of(response) == [("success", "2 sections marked reviewed.")]
    for section in sections:
        section.refresh_from_db()
        assert section.reviewed is True
        assert section.reviewer == member
        assert start <= section.reviewed_at <= timezone.now()
    already.refresh_from_db()
    assert (already.reviewer, already.reviewed_at) == (first_reviewer, first_reviewed_at)

    rows = new_audit_rows(before)
    assert sorted(r.resource_id for r in rows) == sorted(s.pk for s in sections)
    for entry in rows:
        section = next(s for s in sections if s.pk == entry.resource_id)
        assert entry.action == "section.review"
        assert (entry.user_id, entry.company_id) == (member.pk, company.pk)
        assert (entry.ip_address, entry.user_agent) == (IP, USER_AGENT)
        assert entry.details["changes"] == {
            "reviewed": {"old": False, "new": True},
            "reviewer_id": {"old": None, "new": str(member.pk)},
            "reviewed_at": {"old": None, "new": section.reviewed_at.isoformat()},
        }


def test_a_viewer_cannot_mark_reviewed(viewer_client, company):
    section = SectionFactory(project=ProjectFactory(company=company))
    run_action(viewer_client, Section, "mark_reviewed", [section], **META)
    section.refresh_from_db()
    assert (section.reviewed, section.reviewer, section.reviewed_at) == (False, None, None)


# --- content matches -------------------------------------------------------------------------


def test_approve_and_reject(client, company, member):
    project = ProjectFactory(company=company)
    matches = ContentMatchFactory.create_batch(2, project=project)
    before = audit_ids()
    response = run_action(client, ContentMatch, "approve", matches, **META)
    assert messages_of(response) == [("success", "2 matches approved.")]
    assert all(
        ContentMatch.objects.filter(pk__in=[m.pk for m in matches]).values_list(
            "approved", flat=True
        )
    )
    rows = new_audit_rows(before)
    assert sorted(r.resource_id for r in rows) == sorted(m.pk for m in matches)
    for entry in rows:
        assert entry.action == "content_match.approve"
        assert (entry.user_id, entry.company_id) == (member.pk, company.pk)
        assert (entry.ip_address, entry.user_agent) == (IP, USER_AGENT)
        assert entry.details["changes"] == {"approved": {"old": False, "new": True}}

    before = audit_ids()
    response = run_action(client, ContentMatch, "reject", matches[:1], **META)
    assert messages_of(response) == [("success", "1 match rejected.")]
    matches[0].refresh_from_db()
    matches[1].refresh_from_db()
    assert (matches[0].approved, matches[1].approved) == (False, True)
    [entry] = new_audit_rows(before)
    assert entry.action == "content_match.reject"
    assert entry.resource_id == matches[0].pk
    assert entry.details["changes"] == {"approved": {"old": True, "new": False}}


def test_approving_an_approved_match_writes_nothing(client, company):
    match = ContentMatchFactory(project=ProjectFactory(company=company), approved=True)
    before = audit_ids()
    response = run_action(client, ContentMatch, "approve", [match], **META)
    assert messages_of(response) == [("success", "0 matches approved.")]
    assert new_audit_rows(before) == []


def test_a_viewer_cannot_approve(viewer_client, company):
    match = ContentMatchFactory(project=ProjectFactory(company=company))
    run_action(viewer_client, ContentMatch, "approve", [match], **META)
    match.refresh_from_db()
    assert match.approved is False


def test_the_match_list_shows_the_matched_blocks_by_title(client, company):
    first = ContentBlockFactory(company=company, title="CV du conducteur de travaux")
    second = ContentBlockFactory(company=company, title="Grue à tour Potain")
    foreign = ContentBlockFactory(title="Bloc d'un concurrent")
    match = ContentMatchFactory(
        project=ProjectFactory(company=company), blocks=[first, second, foreign]
    )
    empty = ContentMatchFactory(project=match.project, blocks=[])
    response = client.get(reverse("admin:projects_contentmatch_changelist"))
    html = response.content.decode()
    assert "CV du conducteur de travaux, Grue à tour Potain" in html
    assert "Bloc d'un concurrent" not in html
    results = {r.pk: r._block_titles for r in response.context["cl"].result_list}
    assert results == {
        match.pk: ["CV du conducteur de travaux", "Grue à tour Potain"],
        empty.pk: [],
    }

    response = client.get(reverse("admin:projects_contentmatch_change", args=[match.pk]))
    html = response.content.decode()
    assert "CV du conducteur de travaux, Grue à tour Potain" in html
    assert "Bloc d'un concurrent" not in html


# --- generation requests: cost and token totals -------------------------------------------


@pytest.fixture
def generations(company):
    """Two projects of ``company`` and one of another company, with known costs."""
    first = ProjectFactory(company=company, name="Lycée")
    second = ProjectFactory(company=company, name="Stade")
    other = ProjectFactory(company=CompanyFactory(name="Concurrent SA"), name="Mairie")

    def make(project, tokens, cost, status="completed"):
        return GenerationRequestFactory(
            project=project, status=status, tokens_used=tokens, cost_usd=Decimal(cost)
        )

    make(first, 1000, "0.010000")
    make(first, 2500, "0.030000")
    make(second, 4000, "0.050000", status="failed")
    GenerationRequestFactory(project=second)  # pending: no tokens, no cost yet
    make(other, 9000, "0.900000")
    return first, second, other


def test_totals_of_the_company_member(client, generations):
    response = client.get(reverse("admin:projects_generationrequest_changelist"))
    assert response.status_code == 200
    assert response.context["totals"] == {
        "requests": 4,
        "tokens": 7500,
        "cost": Decimal("0.090000"),
    }
    assert [row["project__company__name"] for row in response.context["company_totals"]] == [
        generations[0].company.name
    ]
    html = response.content.decode()
    assert "4 requests" in html
    assert "7500 tokens" in html
    assert "0.0900 USD" in html
    assert "Concurrent SA" not in html


def test_totals_follow_the_filters(client, generations):
    first = generations[0]
    url = reverse("admin:projects_generationrequest_changelist")
    response = client.get(url, {"project__id__exact": str(first.pk)})
    assert response.context["totals"] == {
        "requests": 2,
        "tokens": 3500,
        "cost": Decimal("0.040000"),
    }
    response = client.get(url, {"status__exact": "failed"})
    assert response.context["totals"] == {
        "requests": 1,
        "tokens": 4000,
        "cost": Decimal("0.050000"),
    }


def test_totals_per_company_for_a_superuser(generations):
    client = admin_client(SuperuserFactory())
    response = client.get(reverse("admin:projects_generationrequest_changelist"))
    assert response.context["totals"] == {
        "requests": 5,
        "tokens": 16500,
        "cost": Decimal("0.990000"),
    }
    per_company = {
        row["project__company__name"]: (row["requests"], row["tokens"], row["cost"])
        for row in response.context["company_totals"]
    }
    assert per_company == {
        "Concurrent SA": (1, 9000, Decimal("0.900000")),
        generations[0].company.name: (4, 7500, Decimal("0.090000")),
    }
    html = response.content.decode()
    assert "<td>Concurrent SA</td><td>1</td><td>9000</td><td>0.9000</td>" in html
    assert f"<td>{generations[0].company.name}</td><td>4</td><td>7500</td><td>0.0900</td>" in html


def test_the_project_total_column(client, generations):
    first, second, _other = generations
    response = client.get(reverse("admin:projects_generationrequest_changelist"))
    rows = response.context["cl"].result_list
    expected = {first.pk: Decimal("0.040000"), second.pk: Decimal("0.050000")}
    assert {r.project_id: r.project_total_cost for r in rows} == expected
    assert "project total (usd)" in response.content.decode().lower()
    # The column stays the project's total when the list is filtered down.
    response = client.get(
        reverse("admin:projects_generationrequest_changelist"), {"status__exact": "completed"}
    )
    assert {r.project_total_cost for r in response.context["cl"].result_list} == {
        Decimal("0.040000")
    }


def test_company_totals_put_the_most_expensive_first_and_no_cost_last(generations):
    idle = ProjectFactory(company=CompanyFactory(name="Sans coût SARL"))
    GenerationRequestFactory(project=idle)  # pending: cost NULL
    client = admin_client(SuperuserFactory())
    response = client.get(reverse("admin:projects_generationrequest_changelist"))
    names = [row["project__company__name"] for row in response.context["company_totals"]]
    assert names == ["Concurrent SA", generations[0].company.name, "Sans coût SARL"]


def test_a_move_decided_on_a_stale_status_is_refused(company, member):
    """Two people moving the same project from the same status: only one succeeds."""
    project = ProjectFactory(company=company, status=S.DRAFT)
    seen_by_a, seen_by_b = Project.objects.get(pk=project.pk), Project.objects.get(pk=project.pk)
    assert workflow.move(company, seen_by_a, S.RC_ANALYZING) == 1
    with pytest.raises(workflow.TransitionRefused):
        workflow.move(company, seen_by_b, S.RC_ANALYZING)
    project.refresh_from_db()
    assert project.status == S.RC_ANALYZING
    assert AuditLog.objects.filter(action="project.transition", resource_id=project.pk).count() == 1


def test_companies_with_the_same_name_are_totalled_apart(db):
    for cost in ("0.100000", "0.200000"):
        project = ProjectFactory(company=CompanyFactory(name="Bâtiments Martin"))
        GenerationRequestFactory(project=project, tokens_used=10, cost_usd=Decimal(cost))
    client = admin_client(SuperuserFactory())
    response = client.get(reverse("admin:projects_generationrequest_changelist"))
    rows = response.context["company_totals"]
    assert [(r["project__company__name"], r["cost"]) for r in rows] == [
        ("Bâtiments Martin", Decimal("0.200000")),
        ("Bâtiments Martin", Decimal("0.100000")),
    ]
