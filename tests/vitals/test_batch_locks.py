"""Two batches naming one sensor queue on its row lock (vitals.store.lock_sensors), so its readings are
evaluated in one order; the lock is taken on a server-bound cursor inside Django's transaction."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.db.models import Q

from incidents.models import Category
from operations.services.readings import readings_receive_system
from tests.vitals.conftest import make_sensor, series
from vitals import store
from vitals.models import Indicator, Sensor

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite has no row locks (its writers queue on the database lock)"
)


def test_a_batch_waits_for_the_batch_holding_its_sensor_and_then_sees_its_state(committed_city):
    indicator = Indicator.objects.create(
        code="lock-depth", name="积水", domain="城市生命线", group="排水", unit="cm", direction="above",
        thresholds={"blue": 5}, category=Category.objects.get(code="E0402"),
    )  # fmt: skip
    make_sensor("wl-1", indicator)
    finished = threading.Event()
    answers = []

    def second_batch() -> None:
        try:
            answers.append(readings_receive_system(series("wl-1", "1 2", start=0)))
        finally:
            connection.close()
            finished.set()

    with transaction.atomic():
        [held] = store.lock_sensors({"wl-1"}, Q()).values()
        assert held.code == "wl-1" and held.last_at is None
        other = threading.Thread(target=second_batch)
        other.start()
        assert not finished.wait(1.5)  # queued on the row lock
        # The first batch's state, written under its lock: the queued batch must see it.
        first = readings_receive_system(series("wl-1", "3", start=5))
        assert first.accepted == 1
    assert finished.wait(20)
    other.join()
    # Evaluated after the first batch: t=0 is not newer than its t=5, so it is late; t=5 is a duplicate.
    [answer] = answers
    assert (answer.accepted, answer.late, answer.duplicates) == (0, 1, 1)
    sensor = Sensor.objects.get(code="wl-1")
    assert sensor.last_value == 3
