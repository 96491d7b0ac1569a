"""Redis as the shared cache is down: intake keeps working; what needs the cache to be safe says so.

The cache here is the production backend (django-redis) pointed at a port where
nothing listens, so every call really fails underneath.
"""

import json
import time

import pytest
from celery import Celery
from rest_framework.test import APIClient

from dispatch.models import DepartmentEndpoint, OutboxMessage
from incidents.models import Event, State
from operations import outbox
from operations.webhooks import sign_request
from tests.factories import dept, file_event, point_in, user

DEAD_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def redis_down(settings, monkeypatch):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        }
    }
    down = Celery("down", broker=DEAD_REDIS, set_as_current=False)
    down.conf.broker_connection_retry = False
    down.conf.task_publish_retry = False
    # The outbox kicks its drain by task name through the current Celery app: make that the dead one.
    monkeypatch.setattr(outbox, "current_app", down)
    from django.core.cache import cache

    with pytest.raises(Exception):  # noqa: B017 - any error: the point is that the raw client fails
        cache.client.get_client().ping()


@pytest.mark.django_db
def test_intake_is_accepted_and_rate_limited_intake_still_counts_nothing(
    redis_down, settings, django_capture_on_commit_callbacks
):
    settings.INTAKE_RATE_PER_USER_PER_MINUTE = 1  # the limiter cannot count: it lets reports through
    client = APIClient()
    client.force_authenticate(user("gw_nanhu1"))
    lat, lon = point_in()
    codes = []
    for i in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/api/v1/events",
                {"title": f"缓存断开 {i}", "category": "E0101", "latitude": lat, "longitude": lon},
                format="json",
            )
        assert response.status_code == 201, response.content
        codes.append(response.json()["code"])
    events = Event.objects.filter(code__in=codes)
    assert {e.grid.code for e in events} == {"99010200100101"}  # the grid lookup did not need the cache
    assert set(events.values_list("state", flat=True)) == {State.DISPATCHED}
    pending = OutboxMessage.objects.filter(event__in=events, processed_at__isnull=True)
    assert set(pending.values_list("event__code", flat=True)) == set(codes)  # left for the drain


@pytest.mark.django_db
def test_signed_department_requests_are_refused_with_503_not_accepted_unchecked(redis_down, client):
    DepartmentEndpoint.objects.create(department=dept("990102001-huanwei"), secret="s", url="")
    event = file_event(category="E0101")
    path = f"/api/v1/department-system/events/{event.code}/accept"
    body, ts = json.dumps({}).encode(), str(int(time.time()))
    response = client.post(
        path,
        data=body,
        content_type="application/json",
        HTTP_X_CITYGOV_DEPARTMENT="990102001-huanwei",
        HTTP_X_CITYGOV_TIMESTAMP=ts,
        HTTP_X_CITYGOV_SIGNATURE=sign_request("s", ts, "POST", path, body),
    )
    assert response.status_code == 503, response.content
    assert response["Retry-After"]  # "try again later", as for every 503
    assert response.json()["code"] == "replay_check_unavailable"
    assert Event.objects.get(pk=event.pk).state == State.DISPATCHED  # nothing happened
