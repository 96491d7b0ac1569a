"""Failures the product must survive: broker down at intake, a handler dying mid-task, two sweeps at once."""

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from celery import Celery
from django.db import connection, connections
from freezegun import freeze_time
from rest_framework.test import APIClient

from dispatch.models import Notification, OutboxMessage, RoutingRule
from incidents.models import Event
from operations import notifications, outbox
from operations.outbox import deliver_pending
from operations.sweep import sweep
from tests.factories import accepted_event, file_event, point_in, user

SH = ZoneInfo("Asia/Shanghai")


@pytest.mark.django_db
def test_intake_succeeds_while_the_broker_is_down_and_effects_follow_later(
    monkeypatch, django_capture_on_commit_callbacks
):
    RoutingRule.objects.update(is_active=False)
    # A broker address where nothing listens: publishing really fails.
    down = Celery("down", broker="redis://127.0.0.1:1/0", set_as_current=False)
    down.conf.broker_connection_retry = False
    down.conf.task_publish_retry = False
    # The outbox kicks its drain by task name through the current Celery app: make that the dead one.
    monkeypatch.setattr(outbox, "current_app", down)
    client = APIClient()
    client.force_authenticate(user("gw_nanhu1"))
    lat, lon = point_in()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            "/api/v1/events",
            {"title": "断网时上报", "category": "E0101", "latitude": lat, "longitude": lon},
            format="json",
        )
    assert response.status_code == 201, response.content
    assert callbacks  # the after-commit kick ran, and its failure was swallowed
    event = Event.objects.get(code=response.json()["code"])
    pending = OutboxMessage.objects.filter(event=event, processed_at__isnull=True)
    assert pending.count() == 1
    # The broker is back: the periodic drain delivers what was waiting.
    assert deliver_pending() >= 1
    assert not pending.exists()
    assert Notification.objects.filter(event=event, user__username="op_nanhu").count() == 1


@pytest.mark.django_db
def test_a_handler_dying_mid_task_leaves_nothing_half_done_and_the_retry_delivers_once(monkeypatch):
    RoutingRule.objects.update(is_active=False)
    event = accepted_event()
    from operations import services

    services.event_urge(actor=user("sup_nanhu"), event_id=event.pk, note="快")
    real_create = Notification.objects.create
    calls = {"n": 0}

    def crash_after_first(**kwargs):
        created = real_create(**kwargs)
        if kwargs.get("kind") == "urge":
            calls["n"] += 1
            if calls["n"] == 1:
                raise RuntimeError("worker killed")  # after one urge notification was written
        return created

    monkeypatch.setattr(Notification.objects, "create", crash_after_first)
    deliver_pending()
    assert not Notification.objects.filter(event=event, kind="urge").exists()  # rolled back whole
    monkeypatch.setattr(Notification.objects, "create", real_create)
    message = OutboxMessage.objects.get(event=event, topic="event.urge")
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=None)
    deliver_pending()
    # Redelivering a message that already went out (a lost acknowledgement) changes nothing.
    notifications.notify(OutboxMessage.objects.get(pk=message.pk))
    urged = list(Notification.objects.filter(event=event, kind="urge").values_list("user__username", flat=True))
    assert sorted(urged) == ["hd_nanhu_huanwei", "op_nanhu"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent sweeps need PostgreSQL row locks")
@pytest.mark.usefixtures("committed_city")
def test_two_sweeps_at_once_notify_once():
    RoutingRule.objects.update(is_active=False)
    start = datetime(2026, 11, 25, 9, tzinfo=SH)
    with freeze_time(start):
        events = [file_event(title=f"e{i}") for i in range(20)]
    now = start + timedelta(minutes=26)  # every dispatch clock past 80 %
    results = []
    barrier = threading.Barrier(2)

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(sweep(now))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(r.yellow for r in results) == len(events)
    assert OutboxMessage.objects.filter(topic="sla.yellow").count() == len(events)
    deliver_pending()
    per_user = Notification.objects.filter(kind="sla.yellow", user__username="op_nanhu").count()
    assert per_user == len(events)
