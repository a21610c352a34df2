from __future__ import annotations

import datetime

from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from audit.actions import ACTION_LABELS, verb
from config.db.fields import uuid_primary_key
from tenants.managers import TenantQuerySet

__all__ = ["AuditLog"]


class AuditLogQuerySet(TenantQuerySet):
    # company_id is a plain uuid (no foreign key), so the path is the column itself.
    company_path = "company_id"


class AuditLog(models.Model):
    """Append-only record of who did what (PostgreSQL refuses UPDATE and DELETE).

    ``user_id`` and ``company_id`` are plain uuids, not foreign keys, so entries
    outlive the users and companies they name.
    """

    id = uuid_primary_key()
    action = models.CharField(_("action"), max_length=100)
    user_id = models.UUIDField(_("user"), blank=True, null=True)
    company_id = models.UUIDField(_("company"), blank=True, null=True)
    resource_type = models.CharField(_("resource type"), max_length=50, blank=True, null=True)
    resource_id = models.UUIDField(_("resource id"), blank=True, null=True)
    details = models.JSONField(_("details"), default=dict, db_default={}, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), blank=True, null=True)
    user_agent = models.TextField(_("user agent"), blank=True, null=True)
    timestamp = models.DateTimeField(_("timestamp"), db_default=Now(), editable=False)
    # Set by PostgreSQL on INSERT (trigger audit_log_chain, audit.0003), never by the
    # application: the row's place in its company's chain, and the hash that links it
    # to the row before (see audit.verification).
    chain_seq = models.BigIntegerField(_("sequence"), blank=True, null=True, editable=False)
    row_hash = models.CharField(_("hash"), max_length=64, blank=True, null=True, editable=False)

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        db_table = "audit_log"
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-timestamp"]
        indexes = [
            # A user's entries in a time range.
            models.Index("user_id", models.F("timestamp").desc(), name="idx_audit_log_user_id"),
            models.Index(fields=["resource_type", "resource_id"], name="idx_audit_log_resource"),
            models.Index(models.F("timestamp").desc(), name="idx_audit_log_timestamp"),
            # A company's entries, newest first (the admin's list).
            models.Index(
                "company_id", models.F("timestamp").desc(), name="idx_audit_log_company_id"
            ),
            # The admin's action filter and prefix search ("project.") within a company.
            models.Index(
                fields=["company_id", "action", "-timestamp"],
                opclasses=["uuid_ops", "varchar_pattern_ops", "timestamptz_ops"],
                name="idx_audit_log_company_action",
            ),
            # Search by id: the entries about one object, whatever its type.
            models.Index(fields=["resource_id"], name="idx_audit_log_resource_id"),
            # A company's chain, last link first (the INSERT trigger reads it).
            models.Index("company_id", models.F("chain_seq").desc(), name="idx_audit_log_chain"),
        ]

    def __str__(self) -> str:
        # The reader's time zone, as every date of the admin (not the stored UTC).
        from django.utils import formats, timezone

        label = str(ACTION_LABELS.get(verb(self.action or ""), self.action))
        if not isinstance(self.timestamp, datetime.datetime):
            return label
        moment = formats.date_format(timezone.localtime(self.timestamp), "SHORT_DATETIME_FORMAT")
        return f"{label} — {moment}"
