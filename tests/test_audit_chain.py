"""The audit trail: the application's role may only read and append to it, and its hash
chain, computed by PostgreSQL, breaks at the row the owner of the table changes."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.db.utils import ProgrammingError

from audit import services as audit
from audit.models import AuditLog
from audit.verification import verify
from tests.factories import CompanyFactory, UserFactory

pytestmark = pytest.mark.django_db


def _as_owner(sql: str, params=None) -> None:
    """What only the owner of the table may do: the append-only trigger and the
    row-level security lifted, a row changed, both back."""
    with connections["owner"].cursor() as cursor:
        cursor.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        cursor.execute("ALTER TABLE audit_log NO FORCE ROW LEVEL SECURITY")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE audit_log FORCE ROW LEVEL SECURITY")
        cursor.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET action = 'x'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
        "ALTER TABLE audit_log NO FORCE ROW LEVEL SECURITY",
        "DROP TABLE audit_log",
        "SET session_replication_role = replica",
    ],
)
def test_the_application_role_may_only_read_and_append(statement):
    _entries(CompanyFactory(), 1)
    with pytest.raises(ProgrammingError), connection.cursor() as cursor:
        cursor.execute("SAVEPOINT attempt")
        try:
            cursor.execute(statement)
        finally:
            cursor.execute("ROLLBACK TO SAVEPOINT attempt")
    assert AuditLog.objects.count() == 1


def _entries(company, n):
    user = UserFactory(company=company)
    return [
        audit.record("project.update", user=user, resource_type="project", details={"n": i})
        for i in range(n)
    ]


def test_each_company_has_its_own_chain_computed_by_the_database():
    a, b = CompanyFactory(), CompanyFactory()
    _entries(a, 3)
    _entries(b, 2)
    # A row written in plain SQL, skipping the application, is chained all the same.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_log (id, action, company_id, details, chain_seq, row_hash) "
            "VALUES (gen_random_uuid(), 'forged', %s, '{}', 999, 'abc')",
            [a.pk],
        )
    seqs = list(
        AuditLog.objects.filter(company_id=a.pk)
        .order_by("chain_seq")
        .values_list("chain_seq", "action")
    )
    assert [s for s, _ in seqs] == [1, 2, 3, 4] and seqs[-1][1] == "forged"
    assert len(set(AuditLog.objects.values_list("row_hash", flat=True))) == AuditLog.objects.count()
    checked, breaks = verify()
    assert breaks == [] and checked == AuditLog.objects.count()


@pytest.mark.django_db(transaction=True, databases=["default", "owner"])
@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        ("UPDATE audit_log SET details = '{\"n\": 42}' WHERE id = %s", "do not match"),
        ("DELETE FROM audit_log WHERE id = %s", "missing"),
        (
            'UPDATE audit_log SET "timestamp" = "timestamp" - interval \'1 day\', row_hash = row_hash WHERE id = %s',
            "do not match",
        ),
    ],
)
def test_a_row_changed_by_the_owner_breaks_the_chain_there(tamper, problem):
    company = CompanyFactory()
    entries = _entries(company, 5)
    target = entries[2]
    _as_owner(tamper, [target.pk])
    _checked, breaks = verify(company.pk)
    first = breaks[0]
    assert first.chain_seq in (3, 4) and problem in first.problem
    out = io.StringIO()
    with pytest.raises(CommandError, match="altéré"):
        call_command("verify_audit", "--company", str(company.pk), stdout=out)
    assert f"row {first.chain_seq}" in out.getvalue()


def test_verify_audit_reports_an_intact_trail():
    _entries(CompanyFactory(), 2)
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "every chain is intact" in out.getvalue()
