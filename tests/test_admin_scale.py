"""What keeps admin lists fast on big tables: a capped count, cached filter values."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tenants.admin_base.changelist import CappedCountPaginator
from tests.admin_helpers import admin_client
from tests.factories import ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_count_stops_at_the_cap_and_says_so(monkeypatch):
    user = UserFactory()
    ProjectFactory.create_batch(5, company=user.company)
    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    client = admin_client(user)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:projects_project_changelist"))

    assert response.context["cl"].result_count == 3
    assert "more than 3 projects" in response.content.decode()
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT 4" in sql for sql in counts)


def test_the_count_is_exact_under_the_cap():
    user = UserFactory()
    ProjectFactory.create_batch(2, company=user.company)
    response = admin_client(user).get(reverse("admin:projects_project_changelist"))
    assert response.context["cl"].result_count == 2
    assert "more than" not in response.content.decode()


def test_distinct_filter_values_are_read_once_then_cached():
    user = UserFactory()
    ProjectFactory(company=user.company, project_type="Réhabilitation")
    client = admin_client(user)
    url = reverse("admin:projects_project_changelist")

    def distinct_queries():
        with CaptureQueriesContext(connection) as queries:
            html = client.get(url).content.decode()
        return html, [
            q
            for q in queries.captured_queries
            if "DISTINCT" in q["sql"].upper() and "project_type" in q["sql"]
        ]

    html, first = distinct_queries()
    assert "Réhabilitation" in html and first
    ProjectFactory(company=user.company, project_type="Neuf")
    html, second = distinct_queries()
    assert second == [] and "Neuf" not in html  # cached for a few minutes
    assert "Neuf" in client.get(url, {"project_type": "Neuf"}).content.decode()


def test_the_date_hierarchy_years_come_from_two_index_lookups():
    import datetime

    from django.utils import timezone

    from projects.models import Project

    user = UserFactory()
    for year in (2021, 2024):
        project = ProjectFactory(company=user.company)
        Project.objects.filter(pk=project.pk).update(
            created_at=timezone.make_aware(datetime.datetime(year, 6, 1))
        )
    with CaptureQueriesContext(connection) as queries:
        response = admin_client(user).get(reverse("admin:projects_project_changelist"))
    html = response.content.decode()
    assert all(str(year) in html for year in (2021, 2022, 2023, 2024))
    assert not [q for q in queries.captured_queries if "DATE_TRUNC" in q["sql"].upper()]


def test_project_search_is_french_full_text():
    user = UserFactory()
    ProjectFactory(
        company=user.company, name="Réhabilitation du collège", client="Métropole de Lyon"
    )
    ProjectFactory(company=user.company, name="Piscine", client="Ville d'Évry")
    url = reverse("admin:projects_project_changelist")
    client = admin_client(user)

    def names(term):
        return [p.name for p in client.get(url, {"q": term}).context["cl"].result_list]

    assert names("college rehabilitation") == ["Réhabilitation du collège"]
    assert names("evry") == ["Piscine"]
    assert names("metropole") == ["Réhabilitation du collège"]


def test_audit_search_by_action_prefix_or_id():
    from audit.models import AuditLog

    admin = UserFactory(role="admin")
    project = ProjectFactory(company=admin.company)
    AuditLog.objects.create(
        action="project.create", company_id=admin.company_id, resource_id=project.pk
    )
    AuditLog.objects.create(action="user.login", company_id=admin.company_id, user_id=admin.pk)
    url = reverse("admin:audit_auditlog_changelist")
    client = admin_client(admin)

    def actions(term):
        return sorted(e.action for e in client.get(url, {"q": term}).context["cl"].result_list)

    assert actions("project.") == ["project.create"]
    assert actions(str(project.pk)) == ["project.create"]
    assert set(actions(str(admin.pk))) == {"user.login"}  # force_login writes one too
    assert actions("nothing-like-this") == []


@pytest.mark.parametrize("action", ["mark_reviewed", "approve", "transition"])
def test_workflow_actions_run_a_constant_number_of_queries(action):
    from projects import services, workflow
    from projects.models import ContentMatch, Project, Section
    from tests.factories import ContentMatchFactory, SectionFactory

    user = UserFactory()

    def queries_for(count: int) -> int:
        project = ProjectFactory(company=user.company, status="draft")
        if action == "mark_reviewed":
            SectionFactory.create_batch(count, project=project)
            run = lambda: services.mark_reviewed(  # noqa: E731
                user.company, Section.objects.filter(project=project), user=user
            )
        elif action == "approve":
            ContentMatchFactory.create_batch(count, project=project)
            run = lambda: services.set_approval(  # noqa: E731
                user.company, ContentMatch.objects.filter(project=project), True
            )
        else:
            ProjectFactory.create_batch(count - 1, company=user.company, status="draft")
            run = lambda: workflow.move(  # noqa: E731
                user.company,
                list(Project.objects.filter(company=user.company, status="draft")),
                "rc_analyzing",
            )
        with CaptureQueriesContext(connection) as queries:
            assert run() == count
        return len(queries)

    assert queries_for(3) == queries_for(30)
