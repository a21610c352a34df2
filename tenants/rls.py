"""Row-level security: PostgreSQL itself keeps each company's rows to that company.

The admin's scoping (``tenants/admin_base/``) and the company argument of every service
decide what the application asks for; the policies of the ``tenants.0004`` migration
(and those that follow for tables added later) are the backstop: a query that forgets
its company still reads only the company of the request or job that runs it.

A connection says whom it acts for through four settings of its own, read by the
policies' functions (``enpyco_company()``, ``enpyco_user()``, ``enpyco_platform()``,
``enpyco_authenticating()``):

* a company member's request: that company (and the member's own user row);
* a platform superuser's request, an operator's command, a migration: ``platform``,
  the explicit policy that reads every company (there is no bypassing role);
* a request before anyone is logged in: ``auth``, in which only the users and the
  audit log's login rows are readable (to check a password and its throttle);
* nothing (a new connection of the web server or a worker): no company data at all.

Requests set theirs for their transaction (``TenantContextMiddleware``), so a pooled
connection carries nothing from one request to the next; jobs set theirs on the
worker thread's own connection for the time of the job (``jobs.services.execute``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction

COMPANY = "enpyco.company_id"
USER = "enpyco.user_id"
PLATFORM = "enpyco.platform"
AUTH = "enpyco.auth"


@dataclass(frozen=True)
class Context:
    company_id: str = ""
    user_id: str = ""
    platform: bool = False
    authenticating: bool = False

    def settings(self) -> list[tuple[str, str]]:
        return [
            (COMPANY, self.company_id),
            (USER, self.user_id),
            (PLATFORM, "on" if self.platform else ""),
            (AUTH, "on" if self.authenticating else ""),
        ]


NOTHING = Context()
EVERY_COMPANY = Context(platform=True)
AUTHENTICATING = Context(authenticating=True)


def of_company(company) -> Context:
    company_id = getattr(company, "pk", company)
    if not company_id:
        return NOTHING
    return Context(company_id=str(company_id))


def of_user(user) -> Context:
    """What ``user`` (a request's) may read: their company, or every company for an
    active platform superuser; the login rows only while nobody is logged in."""
    if user is None or not getattr(user, "is_authenticated", False):
        return AUTHENTICATING
    if user.is_active and user.is_superuser:
        return Context(user_id=str(user.pk), platform=True)
    return Context(company_id=str(user.company_id or ""), user_id=str(user.pk))


def apply(context: Context, *, local: bool, using: str = DEFAULT_DB_ALIAS, connection=None) -> None:
    """Set ``context`` on the connection, for its transaction (``local``) or session."""
    names = context.settings()
    placeholders = ", ".join("set_config(%s, %s, %s)" for _ in names)
    params = [item for name, value in names for item in (name, value, local)]
    with (connection or connections[using]).cursor() as cursor:
        cursor.execute(f"SELECT {placeholders}", params)


def current(using: str = DEFAULT_DB_ALIAS) -> Context:
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(current_setting(%s, true), ''), coalesce(current_setting(%s, true), ''),"
            " coalesce(current_setting(%s, true), ''), coalesce(current_setting(%s, true), '')",
            [COMPANY, USER, PLATFORM, AUTH],
        )
        company_id, user_id, platform, auth = cursor.fetchone()
    return Context(company_id, user_id, platform == "on", auth == "on")


@contextlib.contextmanager
def session(context: Context, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """``context`` on the connection's session for the block, then what was there."""
    previous = current(using)
    apply(context, local=False, using=using)
    try:
        yield
    finally:
        apply(previous, local=False, using=using)


@contextlib.contextmanager
def every_company(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Every company's rows, for the block only (in its own transaction or savepoint):
    for the few checks that must see beyond the company, such as whether an email
    address is free (the unique index sees every row; a member's query would not)."""
    with transaction.atomic(using=using):
        previous = current(using)
        apply(EVERY_COMPANY, local=True, using=using)
        try:
            yield
        finally:
            apply(previous, local=True, using=using)


def session_default(alias: str) -> Context:
    """What a new connection may read before anyone says whom it acts for."""
    if alias != DEFAULT_DB_ALIAS or settings.DB_SESSION_CONTEXT == "platform":
        return EVERY_COMPANY  # the owner's connection (migrations), operators' commands
    return NOTHING


def on_connection_created(sender, connection, **kwargs) -> None:
    # Also reset what a server-side pooled session might still hold.
    apply(session_default(connection.alias), local=False, connection=connection)


class TenantContextMiddleware:
    """Each request in a transaction that acts for the request's user.

    The user is looked up while only logins are readable, then the transaction is set
    to their company (or to every company for a platform superuser). A response of 500
    rolls the transaction back. Placed after ``AuthenticationMiddleware``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with transaction.atomic():
            previous = current()
            apply(AUTHENTICATING, local=True)
            apply(of_user(request.user), local=True)
            response = self.get_response(request)
            if response.status_code >= 500:
                transaction.set_rollback(True)
            else:
                # Nested in an outer transaction (a test's), the settings would outlive
                # the request: what was there comes back.
                apply(previous, local=True)
        return response
