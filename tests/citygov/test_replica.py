"""The read replica: DATABASE_REPLICA_URL, the router (report and export reads only), the lag on the page."""

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

from citygov.settings.env import replica_from_env
from core import replica
from core.replica import REPLICA, ReplicaRouter, replication_lag, report_reads
from incidents.models import Event


def test_no_replica_url_no_alias(monkeypatch):
    monkeypatch.delenv("DATABASE_REPLICA_URL", raising=False)
    assert replica_from_env() is None


def test_the_replica_url_mirrors_default_in_tests_and_is_read_only(monkeypatch):
    monkeypatch.setenv("DATABASE_REPLICA_URL", "postgres://reader:p%40ss@standby:5432/citygov")
    config = replica_from_env()
    assert config["HOST"] == "standby" and config["PASSWORD"] == "p@ss" and config["NAME"] == "citygov"
    assert config["TEST"] == {"MIRROR": "default"}
    assert config["OPTIONS"]["options"] == "-c default_transaction_read_only=on"
    monkeypatch.setenv("DATABASE_REPLICA_URL", "mysql://x@y/z")
    with pytest.raises(ImproperlyConfigured, match="DATABASE_REPLICA_URL has scheme 'mysql'"):
        replica_from_env()
    monkeypatch.setenv("DATABASE_REPLICA_URL", "postgres://reader:a@b@standby/citygov")
    with pytest.raises(ImproperlyConfigured, match="DATABASE_REPLICA_URL is malformed"):
        replica_from_env()


def test_router_sends_only_report_reads_to_the_replica(monkeypatch):
    router = ReplicaRouter()
    monkeypatch.setattr(replica, "replica_configured", lambda: True)
    assert router.db_for_read(Event) is None  # outside a report: the primary
    with report_reads():
        assert router.db_for_read(Event) == REPLICA
        assert router.db_for_write(Event) == "default"  # never a write
    assert router.db_for_read(Event) is None
    assert router.allow_migrate(REPLICA, "incidents") is False and router.allow_migrate("default", "incidents")
    monkeypatch.setattr(replica, "replica_configured", lambda: False)
    with report_reads():
        assert router.db_for_read(Event) is None  # no replica: everything on default


@pytest.fixture
def fake_replica(db, monkeypatch):
    """A "replica" alias that is the test's own connection (as the TEST MIRROR would be), and a
    record of every routing decision."""
    monkeypatch.setattr(replica, "replica_configured", lambda: True)
    added = REPLICA not in connections
    if added:
        connections[REPLICA] = connections["default"]
    decisions = []
    real = ReplicaRouter.db_for_read

    def spy(self, model, **hints):
        alias = real(self, model, **hints)
        decisions.append((model._meta.label, alias))
        return alias

    monkeypatch.setattr(ReplicaRouter, "db_for_read", spy)
    yield decisions
    if added:
        delattr(connections._connections, REPLICA)


def test_the_report_page_reads_from_the_replica_and_shows_its_lag(fake_replica, login):
    client = login("sup_jiangnan")
    fake_replica.clear()
    page = client.get("/reports/sla/", {"unit": "990102"}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert ("incidents.Event", REPLICA) in fake_replica or ("incidents.EventRecord", REPLICA) in fake_replica
    # The session and the user were read before the report, on the primary.
    assert ("sessions.Session", None) in fake_replica
    assert "read from the replica, 0.0 s behind the primary" in page.content.decode()


@pytest.mark.parametrize("url", ["/reports/sla.csv", "/reports/ranking.xlsx", "/api/v1/reports/ranking"])
def test_exports_and_the_api_read_from_the_replica(fake_replica, login, url):
    client = login("sup_jiangnan")
    fake_replica.clear()
    assert client.get(url, {"unit": "990102"}).status_code == 200
    assert any(alias == REPLICA for _model, alias in fake_replica)


def test_other_pages_stay_on_the_primary(fake_replica, login):
    client = login("op_nanhu")
    fake_replica.clear()
    assert client.get("/console/").status_code == 200
    assert fake_replica and all(alias is None for _model, alias in fake_replica)


@pytest.mark.django_db
def test_lag_without_a_replica_is_none(monkeypatch):
    monkeypatch.setattr(replica, "replica_configured", lambda: False)
    assert replication_lag() is None


def test_lag_on_a_primary_is_zero(fake_replica):
    assert replication_lag() == timedelta(0)
