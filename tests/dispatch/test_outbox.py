"""Outbox dead letters: a message that fails every attempt stays, visible, countable and retryable."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from dispatch.models import OutboxMessage
from operations import outbox
from operations.outbox import MAX_ATTEMPTS, deliver_pending, outbox_put

pytestmark = pytest.mark.django_db


@pytest.fixture
def failing_topic(monkeypatch):
    """A topic whose handler fails until `state["broken"]` is cleared."""
    state = {"broken": True, "delivered": []}

    def handler(message):
        if state["broken"]:
            raise ConnectionError("department system refused the connection")
        state["delivered"].append(message.pk)

    monkeypatch.setitem(outbox._HANDLERS, "test.flaky", [handler])
    return state


def drain_until_dead(message: OutboxMessage) -> None:
    for _ in range(MAX_ATTEMPTS):
        OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=None)  # its backoff has passed
        deliver_pending()


def test_a_message_failing_every_attempt_is_kept_as_a_dead_letter(failing_topic):
    message = outbox_put("test.flaky", payload={"n": 1})
    drain_until_dead(message)
    message.refresh_from_db()
    assert message.processed_at is None, "a message that never went out is not processed"
    assert message.dead_at is not None and message.is_dead
    assert message.attempts == MAX_ATTEMPTS
    assert message.last_error == "ConnectionError: department system refused the connection"
    assert list(outbox.dead_letters()) == [message]
    # The drain leaves it alone from now on.
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - timedelta(days=1))
    assert deliver_pending() == 0
    message.refresh_from_db()
    assert message.attempts == MAX_ATTEMPTS


def test_a_message_that_fails_a_few_times_then_goes_through_is_delivered_not_dead(failing_topic):
    message = outbox_put("test.flaky")
    deliver_pending()
    failing_topic["broken"] = False
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=None)
    deliver_pending()
    message.refresh_from_db()
    assert (message.attempts, message.dead_at is None, message.processed_at is not None) == (1, True, True)
    assert failing_topic["delivered"] == [message.pk]


def test_healthz_counts_dead_letters_without_turning_503(client, failing_topic):
    healthy = client.get("/healthz").json()
    assert (healthy["status"], healthy["dead_letters"], healthy["detail"]) == ("ok", 0, [])
    drain_until_dead(outbox_put("test.flaky"))
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["dead_letters"] == 1
    assert body["status"] == "degraded"
    assert "dead letter" in body["detail"][0]


def test_the_admin_lists_dead_letters_and_sends_them_again(login, failing_topic, django_capture_on_commit_callbacks):
    # Written directly (no after-commit kick of their own), so the action's kick is the one seen below.
    dead = OutboxMessage.objects.create(topic="test.flaky", payload={"n": "dead"})
    drain_until_dead(dead)
    alive = OutboxMessage.objects.create(topic="test.flaky", payload={"n": "pending"})
    admin = login("admin")
    listing = admin.get("/admin/dispatch/outboxmessage/", {"delivery": "dead"})
    assert listing.status_code == 200
    rows = list(listing.context["cl"].result_list)
    assert rows == [dead]
    assert "department system refused the connection" in listing.content.decode()

    failing_topic["broken"] = False
    with django_capture_on_commit_callbacks() as kicks:
        response = admin.post(
            "/admin/dispatch/outboxmessage/",
            {"action": "retry_dead_letters", "_selected_action": [dead.pk, alive.pk]},
            follow=True,
        )
    assert response.status_code == 200
    assert kicks, "the worker is woken after commit"
    dead.refresh_from_db()
    assert (dead.dead_at, dead.attempts, dead.next_attempt_at) == (None, 0, None)
    assert "refused" in dead.last_error  # the trace stays until it goes through
    entry = LogEntry.objects.get(object_id=str(dead.pk), content_type__model="outboxmessage")
    logged = entry.get_change_message()  # in the admin's language (Chinese by default)
    assert f"{MAX_ATTEMPTS} " in logged and "department system refused the connection" in logged
    assert not LogEntry.objects.filter(object_id=str(alive.pk), content_type__model="outboxmessage").exists()
    deliver_pending()
    dead.refresh_from_db()
    assert dead.processed_at is not None and dead.dead_at is None
    assert set(failing_topic["delivered"]) == {dead.pk, alive.pk}


def test_messages_the_old_drain_gave_up_on_become_dead_letters():
    migration = importlib.import_module("dispatch.migrations.0008_outbox_dead_letters")
    when = timezone.now() - timedelta(days=2)
    vanished = OutboxMessage.objects.create(topic="x", processed_at=when, attempts=8, last_error="Boom: x")
    recovered = OutboxMessage.objects.create(topic="x", processed_at=when, attempts=3, last_error="Boom: y")
    migration.resurrect_vanished(apps, None)
    vanished.refresh_from_db()
    recovered.refresh_from_db()
    assert (vanished.processed_at, vanished.dead_at) == (None, when)
    assert (recovered.processed_at, recovered.dead_at) == (when, None)
