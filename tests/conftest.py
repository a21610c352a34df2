import pytest
from django.conf import settings

from tests.scratch import LEGACY_SCHEMA, scratch_database

# The tests' own setup code (factories, assertions reading rows back) reads and writes
# every company's rows: their connections start in platform mode. What a request or a
# job reads is still set by the middleware and the job runner, as in production.
settings.DB_SESSION_CONTEXT = "platform"


def pytest_collection_modifyitems(items):
    """Tests that commit (``transaction=True``) are emptied by ``flush``, which runs as
    the owner of the tables (tenants/management/commands/flush.py): they may use the
    owner's connection."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is not None and marker.kwargs.get("transaction"):
            kwargs = {**marker.kwargs, "databases": "__all__"}
            item.add_marker(pytest.mark.django_db(*marker.args, **kwargs), append=False)


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker, django_db_keepdb):
    """The test database as production has it: created and migrated by the owner role
    (``DATABASES["owner"]``), then used by the tests through the application's role
    (``DATABASES["default"]``), so that a missing grant fails a test."""
    from django.db import connections
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        created = setup_databases(
            verbosity=request.config.option.verbose,
            interactive=False,
            keepdb=django_db_keepdb,
            aliases={"owner"},
        )
        name = connections["owner"].settings_dict["NAME"]
        connections["default"].close()
        connections["default"].settings_dict["NAME"] = name
        settings.DATABASES["default"]["NAME"] = name
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock():
            for connection in connections.all():
                connection.close()
            teardown_databases(created, verbosity=request.config.option.verbose)


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


@pytest.fixture
def restore_vector_indexes():
    """For tests that drop or replace the vector indexes (as their owner, so in a
    committed test): the indexes as migrated again afterwards, for the next tests."""
    yield
    from rag import vector_index

    for index in vector_index.unsuited():
        vector_index.rebuild(index.column)
