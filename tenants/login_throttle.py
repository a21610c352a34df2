"""Slow down password guessing: too many failed logins for one account, or from one
address, in a short window and the login form refuses to even try.

The failures are the ``user.login_failed`` rows of the audit trail, so the count is
shared by every process and server without a cache to run.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from audit.models import AuditLog

LOGIN_FAILED = "user.login_failed"


def _limits() -> tuple[int, int, datetime.timedelta]:
    per_account = settings.LOGIN_MAX_FAILURES_PER_ACCOUNT
    per_address = settings.LOGIN_MAX_FAILURES_PER_ADDRESS
    window = datetime.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)
    return per_account, per_address, window


def retry_after(email: str | None, ip_address: str | None) -> datetime.timedelta | None:
    """How long to wait before the next attempt, or None if it may go ahead."""
    per_account, per_address, window = _limits()
    since = timezone.now() - window
    recent = AuditLog.objects.filter(action=LOGIN_FAILED, timestamp__gte=since)
    blocked_since = []
    for condition, limit in (
        (Q(details__email=(email or "").strip().lower()), per_account),
        (Q(ip_address=ip_address), per_address),
    ):
        if condition.children[0][1] in ("", None):
            continue
        stamps = list(
            recent.filter(condition)
            .order_by("-timestamp")
            .values_list("timestamp", flat=True)[:limit]
        )
        if len(stamps) >= limit:
            blocked_since.append(stamps[-1])
    if not blocked_since:
        return None
    # Every limit hit must have expired before the next attempt: wait for the last one.
    return max(max(blocked_since) + window - timezone.now(), datetime.timedelta(seconds=1))
