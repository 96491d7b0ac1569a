"""Red raises the event's urgency to critical, and its running clocks are timed again under the critical
limits where those are shorter: from their start (the filing, wall clock), never erasing a breach.

The demo's limits for 积水 (E0402): dispatch 0.5 h (critical 0.17 h = 10 min), accept 1 working hour
(critical 0.25 h = 15 min), handle 4 working hours and overall 24 h for any urgency (the category's own).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun import freeze_time

from dispatch.models import SlaClock
from incidents.models import Event, Source, Urgency
from operations.sweep import sweep
from tests.vitals.conftest import make_sensor, series

pytestmark = pytest.mark.django_db

FILED = "2026-07-01 02:00:00"  # UTC: Wednesday 10:00 in Shanghai, inside office hours


def _filed_yellow(depth, post_readings) -> Event:
    make_sensor("wl-1", depth)
    with freeze_time(FILED):
        assert post_readings(series("wl-1", "12 12 12")).status_code == 200  # fires yellow at t=10
    event = Event.objects.get(source=Source.SENSOR)
    assert event.urgency == Urgency.NORMAL
    return event


def _running(event: Event) -> dict[str, SlaClock]:
    return {c.step: c for c in SlaClock.objects.filter(event=event, stopped_at__isnull=True)}


def test_red_retimes_the_running_clocks_from_their_start_under_the_critical_limits(depth, post_readings):
    event = _filed_yellow(depth, post_readings)
    before = _running(event)
    assert set(before) >= {"overall"} and before.keys() & {"dispatch", "accept"}
    with freeze_time("2026-07-01 02:05:00"):
        post_readings(series("wl-1", "35", start=15))  # red
    event.refresh_from_db()
    assert event.urgency == Urgency.CRITICAL
    after = _running(event)
    assert after.keys() == before.keys()
    critical_minutes = {"dispatch": 10, "accept": 15}
    for step, minutes in critical_minutes.items():
        if step in before:
            clock = after[step]
            assert clock.started_at == before[step].started_at
            assert clock.limit_minutes == minutes and not clock.working_time
            assert clock.due_at == clock.started_at + timedelta(minutes=minutes) < before[step].due_at
    # The category's overall limit is the same for every urgency: not moved.
    assert after["overall"].due_at == before["overall"].due_at
    assert event.due_at == min(c.due_at for c in after.values() if c.paused_at is None)
    red = event.records.get(action="warning_red")
    assert red.data["urgency"] == {"from": Urgency.NORMAL, "to": Urgency.CRITICAL}
    moved = red.data["retimed"]
    assert set(moved) == before.keys() & set(critical_minutes)
    for step, change in moved.items():
        assert change["from"] == before[step].due_at.isoformat() and change["to"] == after[step].due_at.isoformat()
        assert change["breached_at"] is None


def test_a_shorter_limit_already_past_turns_the_clock_red_and_a_recorded_breach_stays(depth, post_readings):
    event = _filed_yellow(depth, post_readings)
    [step] = _running(event).keys() & {"dispatch", "accept"}
    # 70 minutes on: past the normal limit of the step (30 min, or 1 working hour); the sweep records it.
    with freeze_time("2026-07-01 03:10:00"):
        sweep()
    breached = _running(event)[step]
    assert breached.breached_at == breached.due_at
    with freeze_time("2026-07-01 03:11:00"):
        post_readings(series("wl-1", "35", start=15))
    clock = _running(event)[step]
    assert clock.due_at < breached.due_at  # timed again under the critical limit
    assert clock.breached_at == breached.breached_at  # the breach as it was recorded, not erased or moved
    assert clock.light == "red"
    change = Event.objects.get(pk=event.pk).records.get(action="warning_red").data["retimed"][step]
    assert change["breached_at"] == breached.breached_at.isoformat()


def test_a_warning_that_never_goes_red_leaves_the_clocks_alone(depth, post_readings):
    event = _filed_yellow(depth, post_readings)
    before = {s: c.due_at for s, c in _running(event).items()}
    with freeze_time("2026-07-01 02:05:00"):
        post_readings(series("wl-1", "25", start=15))  # orange: urgency is not raised
    event.refresh_from_db()
    assert event.urgency == Urgency.NORMAL
    assert {s: c.due_at for s, c in _running(event).items()} == before
    assert "retimed" not in event.records.get(action="warning_change").data
