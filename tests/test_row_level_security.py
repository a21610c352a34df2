"""Isolation enforced by PostgreSQL: row-level security on every table holding company
data, keyed on the per-transaction settings a request or a job sets (tenants/rls.py),
for the application's role, which owns nothing and bypasses nothing."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.utils import ProgrammingError
from django.http import HttpResponse
from django.test import RequestFactory

from tenants import rls
from tests.factories import CompanyFactory, ProjectFactory, SuperuserFactory, UserFactory

pytestmark = pytest.mark.django_db


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # no company filter of our own
        return cursor.fetchone()[0]


@pytest.fixture
def two_companies():
    a, b = CompanyFactory(), CompanyFactory()
    for company, n in ((a, 2), (b, 3)):
        ProjectFactory.create_batch(n, company=company)
    return a, b


def test_the_suite_runs_as_an_application_role_that_owns_and_bypasses_nothing():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, rolsuper, rolbypassrls, rolcreatedb FROM pg_roles "
            "WHERE rolname = current_user"
        )
        user, superuser, bypass, createdb = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = current_user"
        )
        owned = cursor.fetchone()[0]
    assert user == connection.settings_dict["USER"]
    assert (superuser, bypass, createdb, owned) == (False, False, False, 0)


def test_every_table_holding_a_company_id_has_a_forced_policy():
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                   (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relkind = 'r'
               AND (EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                             AND a.attname = 'company_id' AND NOT a.attisdropped)
                    OR c.relname = 'companies')
             ORDER BY 1
            """
        )
        rows = cursor.fetchall()
    unprotected = [
        name for name, enabled, forced, policies in rows if not (enabled and forced and policies)
    ]
    assert {name for name, *_ in rows} >= {"companies", "users", "projects", "audit_log", "jobs"}
    assert unprotected == []


def test_with_no_company_set_a_raw_count_finds_nothing(two_companies):
    with rls.session(rls.NOTHING):
        assert (_count("projects"), _count("companies"), _count("users")) == (0, 0, 0)
    with rls.session(rls.of_company(two_companies[0])):
        assert (_count("projects"), _count("companies")) == (2, 1)
    with rls.session(rls.EVERY_COMPANY):  # the platform's explicit policy
        assert _count("projects") >= 5


def test_a_cross_company_insert_or_update_is_refused(two_companies):
    a, b = two_companies
    theirs = ProjectFactory(company=b, name="Leur projet")
    with rls.session(rls.of_company(a)), connection.cursor() as cursor:
        with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
            cursor.execute(
                "INSERT INTO projects (id, company_id, name) VALUES (gen_random_uuid(), %s, 'x')",
                [b.pk],
            )
        # B's row is not even seen, so an UPDATE of it changes nothing…
        cursor.execute("UPDATE projects SET name = 'Écrasé' WHERE id = %s", [theirs.pk])
        assert cursor.rowcount == 0
        # …and one of A's rows cannot be handed to B.
        with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
            cursor.execute(
                "UPDATE projects SET company_id = %s WHERE company_id = %s", [b.pk, a.pk]
            )
    theirs.refresh_from_db()
    assert theirs.name == "Leur projet"


def test_two_requests_for_two_companies_on_one_connection_see_only_their_own(two_companies):
    a, b = two_companies
    seen = []

    def view(request):
        seen.append((_count("projects"), _count("companies")))
        return HttpResponse("ok")

    middleware = rls.TenantContextMiddleware(view)
    for company in (a, b, a):
        request = RequestFactory().get("/admin/")
        request.user = UserFactory(company=company)
        middleware(request)
    operator = RequestFactory().get("/admin/")
    operator.user = SuperuserFactory()
    middleware(operator)
    assert seen[:3] == [(2, 1), (3, 1), (2, 1)]
    assert seen[3][0] >= 5
    # What the requests set did not outlive them on the connection.
    assert rls.current() == rls.EVERY_COMPANY  # the test suite's own session default


def test_a_request_before_login_reads_only_logins(two_companies):
    seen = {}

    def view(request):
        seen.update(projects=_count("projects"), users=_count("users"))
        return HttpResponse("ok")

    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/admin/login/")
    request.user = AnonymousUser()
    rls.TenantContextMiddleware(view)(request)
    assert seen["projects"] == 0 and seen["users"] >= 0


def test_every_child_table_shares_its_parents_company_by_a_foreign_key():
    """A child row (a section, a version, an export, a chunk…) can never name another
    company than its parent's: a foreign key on (company_id, parent_id) to the parent's
    (company_id, id), whatever migration made the table."""
    from django.apps import apps

    from tenants.models import CompanyChildModel

    children = [
        m
        for m in apps.get_models()
        if issubclass(m, CompanyChildModel) and not m._meta.abstract and not m._meta.proxy
    ]
    assert len(children) >= 10
    missing = []
    with connection.cursor() as cursor:
        for model in children:
            parent = model._meta.get_field(model.company_parent)
            cursor.execute(
                """
                SELECT 1 FROM pg_constraint c
                WHERE c.contype = 'f' AND c.conrelid = %s::regclass
                  AND c.confrelid = %s::regclass
                  AND (SELECT array_agg(a.attname::text ORDER BY k.n)
                       FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
                       JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum)
                      = ARRAY['company_id', %s]
                """,
                [model._meta.db_table, parent.related_model._meta.db_table, parent.column],
            )
            if cursor.fetchone() is None:
                missing.append(model._meta.db_table)
    assert missing == []
