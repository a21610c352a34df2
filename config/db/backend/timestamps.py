"""Timestamps read by psycopg's own loader instead of Django's.

Django 5.2 reads every ``timestamptz`` through ``SpecificTzLoader``, a Python subclass
of psycopg's loader that parses the text and then replaces its tzinfo. Subclassing
turns off psycopg's C implementation, so a 50-row page of projects (two timestamps a
row) spent about a third of its time here. When the session's time zone is UTC, which
is Django's own choice with ``USE_TZ = True``, psycopg's loader already returns
datetimes in ``datetime.timezone.utc``: the same values Django would produce, so the
C loader can be registered as it is.
"""

from __future__ import annotations

from functools import lru_cache

from psycopg import adapt
from psycopg.types.datetime import TimestamptzLoader


def uses_native_loader(wrapper) -> bool:
    """Whether ``wrapper``'s connections can read timestamps with psycopg's loader."""
    from django.conf import settings
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    return is_psycopg3 and settings.USE_TZ and wrapper.timezone_name == "UTC"


@lru_cache
def adapters_template(django_template: adapt.AdaptersMap) -> adapt.AdaptersMap:
    """Django's adapters for UTC connections with psycopg's timestamptz loader.

    ``register_loader`` swaps in the C implementation when psycopg has one.
    """
    adapters = adapt.AdaptersMap(django_template)
    adapters.register_loader("timestamptz", TimestamptzLoader)
    return adapters
