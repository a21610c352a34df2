"""Logins, logouts and failed logins go to the audit trail."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from audit import services
from tenants import login_throttle


@receiver(user_logged_in, dispatch_uid="audit_user_logged_in")
def _logged_in(sender, request, user, **kwargs) -> None:
    services.record(
        "user.login", request=request, user=user, resource_type="user", resource_id=user.pk
    )


@receiver(user_logged_out, dispatch_uid="audit_user_logged_out")
def _logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        services.record(
            "user.logout", request=request, user=user, resource_type="user", resource_id=user.pk
        )


@receiver(user_login_failed, dispatch_uid="audit_user_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    # Only the identifier: the password was already masked by Django and is not kept.
    email = str(credentials.get("username") or credentials.get("email") or "").strip().lower()
    account = login_throttle.account(email) if email else None
    services.record(
        "user.login_failed",
        request=request,
        company_id=account.company_id if account else None,
        resource_type="user",
        resource_id=account.pk if account else None,
        details={"email": email},
    )
