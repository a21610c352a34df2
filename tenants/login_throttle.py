"""Slow down password guessing, as django-axes does: too many failed logins for one
account *from one address*, or from one address for any account, within a window, and
the login form refuses even to try.

* The account is locked from that address only: someone who knows an email cannot lock
  its owner out of their own address.
* The address limit stops one address trying many accounts (``0`` turns it off: behind
  a proxy that does not pass the client's address on, every user would share it).
* The decision and the failure it leads to are taken under a lock per key (PostgreSQL
  advisory locks, held to the end of the attempt's transaction): N parallel attempts
  with a wrong password are checked one after the other, so at most the limit reach the
  password check.
* The failures are the ``user.login_failed`` rows of the audit trail, shared by every
  process and server; a company admin's unlock (``user.unlock``) makes the account's
  earlier failures count no more; every refused attempt writes ``user.login_throttled``.
"""

from __future__ import annotations

import contextlib
import datetime
import zlib
from collections.abc import Iterator

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from audit.models import AuditLog

LOGIN_FAILED = "user.login_failed"
LOGIN_THROTTLED = "user.login_throttled"
UNLOCK = "user.unlock"


def _limits() -> tuple[int, int, datetime.timedelta]:
    return (
        settings.LOGIN_MAX_FAILURES_PER_ACCOUNT,
        settings.LOGIN_MAX_FAILURES_PER_ADDRESS,
        datetime.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW),
    )


def normalized(email: str | None) -> str:
    return (email or "").strip().lower()


def _keys(email: str, ip_address: str | None) -> list[int]:
    """64-bit advisory lock keys of the attempt: its (account, address) and address."""
    names = [f"login:{email}|{ip_address or ''}"]
    if ip_address:
        names.append(f"login:|{ip_address}")
    # Two 32-bit checksums make a 64-bit key; collisions only serialise two attempts.
    return sorted(
        (zlib.crc32(n.encode()) << 32 | zlib.crc32(n[::-1].encode())) - 2**63 for n in names
    )


@contextlib.contextmanager
def attempt(email: str | None, ip_address: str | None) -> Iterator[None]:
    """A transaction holding the attempt's locks: check ``retry_after``, try the
    password and record the failure inside it."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            for key in _keys(normalized(email), ip_address):  # in order: no deadlock
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
        yield


def account(email: str):
    """The account an email names (any case), or None."""
    from tenants.models import User

    return (
        User.objects.alias_email()
        .filter(email_lower=normalized(email))
        .only("pk", "company_id")
        .first()
    )


def _unlocked_at(email: str):
    return AuditLog.objects.filter(action=UNLOCK, details__email=email).aggregate(
        last=Max("timestamp")
    )["last"]


def retry_after(email: str | None, ip_address: str | None) -> datetime.timedelta | None:
    """How long to wait before the next attempt, or None if it may go ahead."""
    per_account, per_address, window = _limits()
    email = normalized(email)
    now = timezone.now()
    since = now - window
    recent = AuditLog.objects.filter(action=LOGIN_FAILED, timestamp__gte=since)
    blocked_since = []
    checks = []
    if email and per_account:
        unlocked = _unlocked_at(email)
        mine = recent.filter(details__email=email, ip_address=ip_address)
        if unlocked is not None:
            mine = mine.filter(timestamp__gt=unlocked)
        checks.append((mine, per_account))
    if ip_address and per_address:
        checks.append((recent.filter(ip_address=ip_address), per_address))
    for failures, limit in checks:
        stamps = list(failures.order_by("-timestamp").values_list("timestamp", flat=True)[:limit])
        if len(stamps) >= limit:
            blocked_since.append(stamps[-1])
    if not blocked_since:
        return None
    # Every limit hit must have expired before the next attempt: wait for the last one.
    return max(max(blocked_since) + window - now, datetime.timedelta(seconds=1))
