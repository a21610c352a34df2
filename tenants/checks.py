"""System checks of the tenants app.

``check_demo_passwords`` is a deployment check (``manage.py check --deploy``): the demo
accounts of ``fixtures/demo.json`` must not keep their well-known password on a
production database. ``tenants.auth.EmailBackend`` already refuses that password when
``DEBUG`` is off; the check makes the deployment fail before anyone relies on that alone.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.core.checks import CheckMessage, Error
from django.db import DatabaseError, router, transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from tenants.demo import DEMO_EMAILS, DEMO_PASSWORD

__all__ = ["DEMO_PASSWORD_ERROR_ID", "check_demo_passwords", "demo_accounts_with_demo_password"]

logger = logging.getLogger(__name__)

DEMO_PASSWORD_ERROR_ID = "tenants.E001"


def demo_accounts_with_demo_password(using: str | None = None) -> list[str]:
    """Emails of the demo accounts (``DEMO_EMAILS``) whose password is still the demo one.

    Raises ``DatabaseError`` when the database cannot be reached or holds no users table.
    """
    user_model = get_user_model()
    using = using or router.db_for_read(user_model)
    # A savepoint, so that a failing query (table missing) does not break a
    # transaction the caller may have open (a test, a management command).
    with transaction.atomic(using=using):
        accounts = list(
            user_model._default_manager.using(using)
            .alias(email_lower=Lower(user_model.get_email_field_name()))
            .filter(email_lower__in=DEMO_EMAILS)
            .values_list(user_model.get_email_field_name(), "password")
        )
    # hashers.check_password() without a setter: unlike User.check_password(), it never
    # rewrites the stored hash, so the check stays read-only.
    return sorted(email for email, encoded in accounts if check_password(DEMO_PASSWORD, encoded))


def check_demo_passwords(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Error ``tenants.E001`` while a demo account still has the demo password.

    Skipped quietly when the database is unreachable or not migrated yet: this check is
    about the data, and ``migrate`` or the connection settings report the other problems.
    """
    if app_configs is not None and not any(config.label == "tenants" for config in app_configs):
        return []
    try:
        exposed = demo_accounts_with_demo_password()
    except DatabaseError as exc:
        logger.info("Demo password check skipped, database not usable: %s", exc)
        return []
    if not exposed:
        return []
    return [
        Error(
            _("The demo accounts %(emails)s still have the demo password.")
            % {"emails": ", ".join(exposed)},
            hint=_(
                "Give them a new password (manage.py changepassword EMAIL) or delete them "
                "before deploying: anyone can read the demo password in the repository."
            ),
            id=DEMO_PASSWORD_ERROR_ID,
        )
    ]
