"""Shared fixtures: the demo city, loaded once per test database, and personas.

Personas follow healthchecks' alice/bob/charlie: for each check there is a
user who may, one from another district who must not, and an outsider.
"""

from __future__ import annotations

import pytest
from django.db import connection

from accounts.models import User
from fixtures.demo_city import DEMO_PASSWORD, load_demo_city


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    # Tests wrapped in a transaction see the demo city for free; transactional
    # tests flush the database and reload it through `committed_city`.
    with django_db_blocker.unblock():
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
    from citygov.process_cache import clear_all_local

    clear_all_local()
    yield
    clear_all_local()
