import pytest

from tests.scratch import LEGACY_SCHEMA, scratch_database


@pytest.fixture
def scratch_db(db):
    """An empty database of its own on the test server (for subprocess commands)."""
    with scratch_database() as database:
        yield database


@pytest.fixture
def legacy_db(scratch_db):
    """A database created from the legacy schema file, empty."""
    scratch_db.execute(LEGACY_SCHEMA.read_text())
    return scratch_db


@pytest.fixture
def scratch_db_factory(db):
    """Make as many scratch databases as a test needs; all dropped afterwards."""
    import contextlib

    with contextlib.ExitStack() as stack:
        yield lambda: stack.enter_context(scratch_database())


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Filter choices and counts are cached for minutes: no test sees another's."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
