"""Readings upkeep (partitions, roll-up, retention), the civic-demand stream and the starter catalogue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from freezegun import freeze_time

from incidents.models import Event
from operations.vitals_sweep import civic_demand, readings_upkeep
from tests.factories import file_event
from tests.vitals.conftest import T0, make_sensor, series
from vitals import partitions
from vitals.models import Indicator, Reading, ReadingHourly, Sensor, VitalWarning

pytestmark = pytest.mark.django_db


def test_the_hourly_roll_up_is_exact_and_idempotent(depth, post_readings):
    make_sensor("wl-1", depth)
    post_readings(series("wl-1", [1, 2, 3, 10, 20, 30, 4, 4, 4, 4, 4, 4, 9], step=5))  # 08:00 … 09:00
    start = T0.astimezone(UTC)
    for _ in range(2):
        partitions.roll_up(start, start + timedelta(hours=2))
    [first, second] = ReadingHourly.objects.filter(sensor__code="wl-1").order_by("hour")
    assert first.hour == start and first.count == 12
    assert (first.minimum, first.maximum) == (1, 30) and first.mean == pytest.approx(
        sum([1, 2, 3, 10, 20, 30] + [4] * 6) / 12
    )
    assert second.count == 1 and second.maximum == 9


def test_retention_drops_old_readings_and_keeps_the_roll_up(depth, post_readings):
    make_sensor("wl-1", depth)
    post_readings(series("wl-1", [1, 2], step=5))
    with freeze_time(T0 + timedelta(days=100)):
        done = readings_upkeep()
    assert not Reading.objects.exists()
    assert ReadingHourly.objects.count() == 0  # the roll-up covers the last two days only; nothing to keep here
    assert done.deleted + done.dropped >= 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="readings are partitioned on PostgreSQL only")
def test_partitions_are_created_ahead_and_a_replayed_day_moves_out_of_the_default(depth, post_readings):
    make_sensor("wl-1", depth)
    old_day = datetime(2024, 3, 1, 12, tzinfo=UTC)
    post_readings([{"sensor": "wl-1", "value": 3, "at": old_day.isoformat()}])
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM vitals_reading_default")
        assert cursor.fetchone()[0] == 1
    name = partitions.create_partition(old_day.date())
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM vitals_reading_default")
        assert cursor.fetchone()[0] == 0
        cursor.execute(f'SELECT count(*) FROM "{name}"')
        assert cursor.fetchone()[0] == 1
    assert Reading.objects.count() == 1
    today = datetime.now(UTC).date()
    created = partitions.ensure_partitions(today, days_ahead=9)
    assert partitions.partition_name(today + timedelta(days=9)) in created
    assert partitions.ensure_partitions(today, days_ahead=9) == []
    with freeze_time(old_day + timedelta(days=200)):
        dropped, _rows = partitions.drop_expired(datetime.now(UTC), retention_days=90)
    assert name in dropped and not Reading.objects.exists()


def test_the_event_stream_is_a_vital_sign(db):
    Indicator.objects.filter(code="civic_demand_hourly").update(thresholds={"blue": 2, "yellow": 3})
    with freeze_time("2026-07-01 01:10:00"):
        for _ in range(3):
            file_event()
        file_event(category="E0103")
    with freeze_time("2026-07-01 02:05:00"):
        received = civic_demand()
    assert received is not None and received.accepted == 2
    street_category = Sensor.objects.get(code="civic-990102001-E0101")
    assert street_category.is_virtual and street_category.grid.path.startswith("990100/990102/990102001/")
    reading = Reading.objects.get(sensor=street_category)
    assert reading.value == 3 and reading.at == datetime(2026, 7, 1, 1, tzinfo=UTC)
    warning = VitalWarning.objects.get(sensor=street_category)
    assert warning.state == "firing" and warning.level == "yellow" and warning.event is None
    with freeze_time("2026-07-01 02:06:00"):
        assert civic_demand().duplicates == 2  # the same hour again: nothing new
    with freeze_time("2026-07-01 03:05:00"):
        quiet = civic_demand()
    assert quiet.accepted == 2  # a quiet hour reads 0 for both, and the warning resolves
    warning.refresh_from_db()
    assert warning.state == "resolved"
    assert Event.objects.filter(source="sensor").count() == 0


def test_load_reference_brings_the_starter_catalogue_and_keeps_a_citys_edits(db):
    Indicator.objects.filter(code="waterlogging_depth").update(thresholds={"yellow": 20, "red": 50})
    Indicator.objects.filter(code="pm25").delete()
    call_command("load_reference")
    assert Indicator.objects.get(code="waterlogging_depth").thresholds == {"yellow": 20, "red": 50}
    pm25 = Indicator.objects.get(code="pm25")
    assert pm25.thresholds == {"blue": 75, "yellow": 115, "orange": 150, "red": 250} and pm25.event_level == "orange"
    codes = set(Indicator.objects.values_list("code", flat=True))
    assert {"waterlogging_depth", "river_level", "gas_concentration", "water_pressure", "bridge_strain",
            "manhole_tilt", "pm25", "crowd_density", "elevator_faults", "civic_demand_hourly"} <= codes  # fmt: skip
    assert Indicator.objects.get(code="water_pressure").direction == "below"
    assert Indicator.objects.get(code="waterlogging_depth").category.code == "E0402"
