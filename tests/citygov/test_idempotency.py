"""Idempotency-Key: keys last 48 hours, only final answers are replayed, beat purges the rest."""

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from freezegun import freeze_time
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import OrgUnit
from citygov.celery import app
from dispatch.models import RoutingRule
from incidents.models import Event, Open311Key
from interfaces import idempotency
from interfaces.models import IdempotencyKey
from operations import services
from operations.services.keys import issue_open311_key
from tests.factories import file_event, point_in, user

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def manual_dispatch():
    RoutingRule.objects.update(is_active=False)


def api(username: str) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user(username))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def intake_body(title: str) -> dict:
    lat, lon = point_in()
    return {"title": title, "category": "E0101", "latitude": lat, "longitude": lon}


def test_a_key_past_its_48_hours_is_a_new_request_even_before_the_purge():
    client = api("gw_nanhu1")
    body = intake_body("过期的键")
    start = datetime(2026, 11, 25, 9, tzinfo=SH)
    with freeze_time(start):
        first = client.post("/api/v1/events", body, format="json", HTTP_IDEMPOTENCY_KEY="old-key")
    assert first.status_code == 201, first.content
    with freeze_time(start + timedelta(hours=47, minutes=59)):
        inside = client.post("/api/v1/events", body, format="json", HTTP_IDEMPOTENCY_KEY="old-key")
    assert inside["Idempotent-Replayed"] == "true" and inside.json()["code"] == first.json()["code"]

    with freeze_time(start + timedelta(hours=48, minutes=1)):
        again = client.post("/api/v1/events", body, format="json", HTTP_IDEMPOTENCY_KEY="old-key")
        assert again.status_code == 201, again.content
        assert "Idempotent-Replayed" not in again
        assert again.json()["code"] != first.json()["code"]
    assert Event.objects.filter(title="过期的键").count() == 2
    record = IdempotencyKey.objects.get(key="old-key")
    assert record.created_at == start + timedelta(hours=48, minutes=1)  # the new claim, stored again


def test_an_expired_key_with_another_body_is_new_not_a_mismatch():
    client = api("gw_nanhu1")
    start = datetime(2026, 11, 25, 9, tzinfo=SH)
    with freeze_time(start):
        first = client.post("/api/v1/events", intake_body("第一次"), format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert first.status_code == 201
    with freeze_time(start + timedelta(days=3)):
        later = client.post("/api/v1/events", intake_body("三天后"), format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert later.status_code == 201, later.content


def test_a_409_is_not_stored_and_the_retry_with_the_same_key_does_the_work():
    event = file_event()
    client = api("op_nanhu")
    body = {"reason": "需要区里处理", "expected_version": event.version + 1}
    stale = client.post(f"/api/v1/events/{event.code}/escalate", body, format="json", HTTP_IDEMPOTENCY_KEY="esc-1")
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    assert not IdempotencyKey.objects.filter(key="esc-1").exists()  # freed, not "in flight" for five minutes
    # The version the client expected is reached (a supervisor urged); the same request now succeeds.
    services.event_urge(actor=user("sup_nanhu"), event_id=event.pk, note="抓紧")
    retry = client.post(f"/api/v1/events/{event.code}/escalate", body, format="json", HTTP_IDEMPOTENCY_KEY="esc-1")
    assert retry.status_code == 200, retry.content
    assert "Idempotent-Replayed" not in retry
    assert Event.objects.get(pk=event.pk).records.filter(action="escalate").count() == 1
    replay = client.post(f"/api/v1/events/{event.code}/escalate", body, format="json", HTTP_IDEMPOTENCY_KEY="esc-1")
    assert replay.status_code == 200 and replay["Idempotent-Replayed"] == "true"


def test_a_429_is_not_stored_and_the_retry_files_the_event(settings):
    client = api("gw_nanhu1")
    body = intake_body("限流后重试")
    settings.INTAKE_RATE_PER_USER_PER_MINUTE = 0
    limited = client.post("/api/v1/events", body, format="json", HTTP_IDEMPOTENCY_KEY="rl-1")
    assert limited.status_code == 429, limited.content
    settings.INTAKE_RATE_PER_USER_PER_MINUTE = 100_000
    retry = client.post("/api/v1/events", body, format="json", HTTP_IDEMPOTENCY_KEY="rl-1")
    assert retry.status_code == 201, retry.content
    assert Event.objects.filter(title="限流后重试").count() == 1


def test_an_open311_429_is_not_stored_either(client, settings):
    key = issue_open311_key(Open311Key(name="311", jurisdiction=OrgUnit.objects.get(code="990102")))
    lat, lon = point_in()
    body = {"api_key": key, "service_code": "E0101", "lat": lat, "long": lon, "description": "限流的311请求"}
    settings.INTAKE_RATE_PER_KEY_PER_MINUTE = 0
    limited = client.post("/open311/v2/requests.json", body, HTTP_IDEMPOTENCY_KEY="o-1")
    assert limited.status_code == 429
    settings.INTAKE_RATE_PER_KEY_PER_MINUTE = 100_000
    retry = client.post("/open311/v2/requests.json", body, HTTP_IDEMPOTENCY_KEY="o-1")
    assert retry.status_code == 200, retry.content
    assert retry.json()[0]["service_request_id"]
    assert Event.objects.filter(source="open311", description__startswith="限流的311请求").count() == 1


def test_final_answers_are_stored_and_retry_later_answers_are_not():
    assert [idempotency.is_final(s) for s in (200, 201, 400, 403, 404, 422)] == [True] * 6
    assert [idempotency.is_final(s) for s in (408, 409, 425, 429, 500, 503)] == [False] * 6


def test_beat_purges_expired_keys():
    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "citygov.purge_idempotency_keys"]
    assert len(entries) == 1 and entries[0]["schedule"] == 3600.0
    app.loader.import_default_modules()
    assert "citygov.purge_idempotency_keys" in app.tasks  # the worker knows the task beat sends
    start = datetime(2026, 11, 25, 9, tzinfo=SH)
    with freeze_time(start):
        IdempotencyKey.objects.create(scope="user:1", key="old", fingerprint="x", response_status=201)
    with freeze_time(start + timedelta(hours=47)):
        IdempotencyKey.objects.create(scope="user:1", key="young", fingerprint="x", response_status=201)
    with freeze_time(start + timedelta(hours=48, seconds=1)):
        assert app.tasks["citygov.purge_idempotency_keys"].apply().get() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["young"]


def test_the_purge_interval_comes_from_the_environment():
    environ = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    environ.update(DJANGO_SETTINGS_MODULE="citygov.settings.test", IDEMPOTENCY_PURGE_SECONDS="120")
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.CELERY_BEAT_SCHEDULE['purge-idempotency-keys']['schedule'])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "120.0", done.stderr
