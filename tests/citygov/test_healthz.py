import pytest
from celery import Celery
from django.db import connections

from citygov import health

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
    monkeypatch.setattr(health, "celery_app", Celery("unreachable", broker="redis://127.0.0.1:1/0"))
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
