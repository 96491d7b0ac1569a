import pytest
from celery import Celery
from django.db import connections

from interfaces import health

pytestmark = pytest.mark.django_db


def test_healthz_answers_200_when_database_and_broker_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True


def test_healthz_answers_503_when_the_broker_does_not(client, monkeypatch):
    # A port nothing listens on: a real connection attempt, refused.
    monkeypatch.setattr(
        health, "celery_app", Celery("unreachable", broker="redis://127.0.0.1:1/0", set_as_current=False)
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"]["ok"] is False
    assert response.json()["database"]["ok"] is True


def test_healthz_answers_503_when_the_database_does_not(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise connections["default"].Database.OperationalError("server closed the connection")

    monkeypatch.setattr(connections["default"], "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == {"ok": False, "error": "OperationalError"}


def test_healthz_reports_the_calendar_without_turning_unhealthy(client):
    from freezegun import freeze_time

    with freeze_time("2026-09-30 12:00:00+08:00"):
        before = client.get("/healthz")
    assert before.json()["calendar"] == {
        "ok": True, "known_until": "2026-12-31", "needed_until": "2026-12-31", "unknown_deadlines": 0,
    }  # fmt: skip
    with freeze_time("2026-10-01 09:00:00+08:00"):
        after = client.get("/healthz")
    # Next year's holidays are missing from 1 October: reported, but the service is up.
    assert after.status_code == 200 and after.json()["status"] == before.json()["status"]
    assert after.json()["calendar"] == {
        "ok": False, "known_until": "2026-12-31", "needed_until": "2027-12-31", "unknown_deadlines": 0,
    }  # fmt: skip


def test_healthz_counts_running_deadlines_computed_over_unknown_days(client):
    from freezegun import freeze_time

    from dispatch.models import RoutingRule
    from tests.factories import file_event

    RoutingRule.objects.update(is_active=False)
    with freeze_time("2026-12-25 10:00:00+08:00"):
        file_event()  # the overall limit (five working days) ends on 1 January 2027
        body = client.get("/healthz").json()
    assert body["calendar"]["unknown_deadlines"] == 1 and body["calendar"]["ok"] is False
