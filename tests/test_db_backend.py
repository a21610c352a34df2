"""The database backend's reading of timestamps (config.db.backend.timestamps)."""

from __future__ import annotations

import datetime
import zoneinfo

import psycopg
import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import override_settings
from psycopg.pq import Format

from audit.models import AuditLog
from config.db.backend import timestamps
from tests.factories import CompanyFactory

TIMESTAMPTZ = psycopg.adapters.types["timestamptz"].oid


@pytest.mark.django_db
def test_timestamps_are_read_by_psycopgs_own_loader_as_utc():
    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(TIMESTAMPTZ, Format.TEXT)
    # psycopg's default loader (its C implementation when installed), not Django's
    # Python subclass.
    assert loader is psycopg.adapters.get_loader(TIMESTAMPTZ, Format.TEXT)
    assert connection.connection.info.parameter_status("TimeZone") == "UTC"

    moment = datetime.datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=datetime.UTC)
    company = CompanyFactory()
    entry = AuditLog.objects.create(
        company_id=company.pk, action="test.read", resource_type="company", timestamp=moment
    )
    read = AuditLog.objects.values_list("timestamp", flat=True).get(pk=entry.pk)
    assert read == moment
    assert read.tzinfo is datetime.UTC


@pytest.mark.django_db(transaction=True)
def test_server_side_cursors_read_the_same_timestamps():
    company = CompanyFactory()
    companies = type(company).objects.filter(pk=company.pk)
    with transaction.atomic():  # .iterator() streams through a named cursor here
        streamed = [c.created_at for c in companies.iterator(chunk_size=1)]
    assert streamed == [companies.get().created_at]
    assert streamed[0].tzinfo is datetime.UTC


def test_only_utc_sessions_use_psycopgs_loader(settings):
    class Wrapper:
        timezone_name = "UTC"

    assert timestamps.uses_native_loader(Wrapper())
    Wrapper.timezone_name = "Europe/Paris"  # DATABASES["default"]["TIME_ZONE"] set
    assert not timestamps.uses_native_loader(Wrapper())
    Wrapper.timezone_name = "UTC"
    settings.USE_TZ = False
    assert not timestamps.uses_native_loader(Wrapper())


@pytest.mark.django_db
def test_time_zone_settings_changed_on_an_open_connection_are_followed():
    company = CompanyFactory()
    companies = type(company).objects.filter(pk=company.pk).values_list("created_at", flat=True)
    connection.ensure_connection()
    with override_settings(USE_TZ=False):  # as a test or a script may do
        (naive,) = companies.all()
    # Django's behaviour without time zone support: naive, in TIME_ZONE.
    assert naive.tzinfo is None
    local = company.created_at.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE))
    assert naive == local.replace(tzinfo=None)
    (aware,) = companies.all()
    assert aware == company.created_at and aware.tzinfo is datetime.UTC
