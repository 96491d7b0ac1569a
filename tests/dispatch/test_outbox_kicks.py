"""The outbox kick is coalesced (#20): not one send_task per intake, and no message left for beat."""

from unittest import mock

import pytest
from django.db import transaction

from accounts.models import Department, User
from incidents.models import Event, State
from operations import outbox, services
from operations.outbox import deferred_kicks, outbox_put
from tests.factories import file_event


@pytest.fixture
def broker(settings):
    settings.OUTBOX_KICK_SECONDS = 60.0
    app = mock.Mock()
    with mock.patch.object(outbox, "current_app", app), mock.patch.object(outbox, "_coalesce", outbox._Coalesce()):
        yield app.send_task


def test_one_kick_now_and_one_at_the_end_of_the_window(broker):
    for _ in range(5):
        outbox._kick()
    first, second = broker.call_args_list
    assert first == mock.call(outbox.DRAIN_TASK, ignore_result=True)
    # The second goes with a countdown to the window's end: nothing committed after the first
    # drain waits for beat's minute drain.
    assert second.args == (outbox.DRAIN_TASK,) and 59 < second.kwargs["countdown"] <= 60


def test_the_next_window_kicks_at_once_again(broker, settings):
    settings.OUTBOX_KICK_SECONDS = 0.0
    for _ in range(3):
        outbox._kick()
    assert broker.call_count == 3
    assert all("countdown" not in c.kwargs for c in broker.call_args_list)


@pytest.mark.django_db(transaction=True)
def test_many_intakes_kick_at_most_twice(committed_city, broker):
    for n in range(6):
        file_event(title=f"第{n}处")  # each its own committed transaction, each wanting a kick
    assert broker.call_count == 2
    assert Event.objects.filter(title__startswith="第").count() == 6


@pytest.mark.django_db(transaction=True)
def test_deferred_kicks_send_one_after_the_last_transaction(committed_city, broker):
    with deferred_kicks():
        for n in range(3):
            with transaction.atomic():
                outbox_put("test.deferred", payload={"n": n})
        assert broker.call_count == 0
    broker.assert_called_once_with(outbox.DRAIN_TASK, ignore_result=True)


@pytest.mark.django_db(transaction=True)
def test_bulk_dispatch_is_one_transaction_per_event_and_one_kick(committed_city, broker):
    a = file_event(category="E0601")  # suggest-only: waits for the operator
    b = file_event(category="E0601", title="另一处")
    stale = file_event(category="E0601", title="第三处")
    broker.reset_mock()
    department = Department.objects.get(code="990102001-huanwei")
    result = services.events_dispatch(
        actor=User.objects.get(username="op_nanhu"),
        department=department,
        versions=[(a.pk, a.version), (stale.pk, stale.version + 1), (b.pk, b.version)],
    )
    assert result.done == [a.pk, b.pk]
    assert list(result.failed) == [stale.pk]  # refused on its own; the others still went
    states = dict(Event.objects.filter(pk__in=[a.pk, b.pk, stale.pk]).values_list("pk", "state"))
    assert states == {a.pk: State.DISPATCHED, b.pk: State.DISPATCHED, stale.pk: State.REPORTED}
    broker.assert_called_once_with(outbox.DRAIN_TASK, ignore_result=True)
