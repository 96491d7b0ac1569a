"""Shared fixtures: the demo city, loaded once per test database, and personas.

Personas follow healthchecks' alice/bob/charlie: for each check there is a
user who may, one from another district who must not, and an outsider.
"""

from __future__ import annotations

import pytest
from django.db import connection, connections
from pytest_django.plugin import blocking_manager_key

from accounts.models import User
from fixtures.demo_city import DEMO_PASSWORD, load_demo_city


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    # Tests wrapped in a transaction see the demo city for free; transactional
    # tests flush the database and reload it through `committed_city`.
    with django_db_blocker.unblock():
        load_demo_city()


@pytest.fixture(scope="session", autouse=True)
def flush_past_the_history_truncate_guard():
    """Transactional tests end with Django's flush, one TRUNCATE of every table; on PostgreSQL
    the history table refuses TRUNCATE (incidents migration 0012), as it must in production.
    The test database's superuser switches ordinary triggers off for the flush's own
    transaction only (SET LOCAL), so every other test still meets the triggers."""
    if connection.vendor != "postgresql":
        yield
        return
    operations = type(connection.ops)
    real = operations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = real(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        return ["SET LOCAL session_replication_role = replica", *statements] if statements else statements

    operations.sql_flush = sql_flush
    yield
    operations.sql_flush = real


def _flushes(item: pytest.Item | None) -> bool:
    """Whether a test runs outside a transaction, so that Django flushes every table after it."""
    if item is None:
        return False
    marker = item.get_closest_marker("django_db")
    names = set(getattr(item, "fixturenames", ()))
    return bool(marker and marker.kwargs.get("transaction")) or bool({"transactional_db", "live_server"} & names)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """A transactional test ends with Django's flush, which empties every table. Serially,
    pytest-django runs those tests last; pytest-xdist hands each process whole test modules in any
    order, so a test wrapped in a transaction may come next, and it must find the demo city where
    it always is. A hook, not a fixture: it runs after every fixture's teardown, the flush included."""
    yield
    if _flushes(item) and nextitem is not None and not _flushes(nextitem):
        with item.config.stash[blocking_manager_key].unblock():
            load_demo_city()


@pytest.fixture
def committed_city(transactional_db):
    """The demo city in a transactional test (data really committed, visible to other threads)."""
    load_demo_city()


@pytest.fixture
def persona(db):
    def get(username: str) -> User:
        return User.objects.get(username=username)

    return get


@pytest.fixture
def login(client):
    """Log the test client in as a demo user through the real login form."""

    def do(username: str):
        response = client.post("/accounts/login/", {"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 302, response.content[:500]
        return client

    return do


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def english_messages():
    """Service messages in English, so tests can match them; pages still negotiate their own language."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def fresh_process_caches():
    """Per-process copies of rules, grids and calendars start empty: each test rolls its rows back."""
    from core.process_cache import clear_all_local

    clear_all_local()
    yield
    clear_all_local()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """With DATABASE_REPLICA_URL set, the "replica" alias mirrors "default" (TEST MIRROR); a test's
    data lives in default's open transaction, which another connection cannot see, so while the test
    body runs the alias uses default's connection, as a replica that has replayed everything would.
    A hook rather than a fixture: it runs after pytest-django has set up (and guarded) the
    connections, whichever fixture asked for the database."""
    if "replica" not in connections:
        yield
        return
    original = connections["replica"]
    connections["replica"] = connections["default"]
    try:
        yield
    finally:
        connections["replica"] = original
