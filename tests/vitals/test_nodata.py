"""NoData on the wall clock (the beat's sweep): a device-fault warning for the owner department, lifted by
the next reading; never an event."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from freezegun import freeze_time

from accounts.models import Department
from dispatch.models import Notification
from incidents.models import Event, Source
from operations.outbox import deliver_pending
from operations.vitals_sweep import nodata_sweep
from tests.vitals.conftest import make_sensor
from vitals.models import VitalWarning, WarningRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def silent_sensor(depth):
    depth.nodata_minutes = 30
    depth.save()
    with freeze_time("2026-07-01 00:00:00"):
        return make_sensor("wl-1", depth, owner_department=Department.objects.get(code="990102-shuiwu"))


def test_a_sensor_silent_past_the_limit_raises_one_device_fault_for_its_department(silent_sensor):
    with freeze_time("2026-07-01 00:29:00"):
        assert nodata_sweep() == 0
    with freeze_time("2026-07-01 00:31:00"):
        assert nodata_sweep() == 1
        assert nodata_sweep() == 0  # one open no-data warning per sensor
        deliver_pending()
    fault = VitalWarning.objects.get(sensor=silent_sensor)
    assert fault.kind == "nodata" and fault.state == "firing" and fault.event is None
    assert not Event.objects.filter(source=Source.SENSOR).exists()
    # Nobody hears of it but the owner department's handlers, and the demo's 江南区水务局 has none.
    assert Notification.objects.filter(kind="vitals.nodata").count() == 0


def test_the_owner_departments_handlers_are_told(silent_sensor):
    from accounts.models import Role, User
    from accounts.services import membership_grant

    handler = User.objects.create(username="hd_jiangnan_shuiwu")
    membership_grant(user=handler, role=Role.HANDLER, department=Department.objects.get(code="990102-shuiwu"))
    with freeze_time("2026-07-01 01:00:00"):
        nodata_sweep()
        deliver_pending()
    note = Notification.objects.get(kind="vitals.nodata")
    assert note.user == handler and "wl-1" in note.text and note.event is None


def test_the_next_reading_lifts_it(silent_sensor, post_readings):
    with freeze_time("2026-07-01 01:00:00"):
        nodata_sweep()
    with freeze_time("2026-07-01 01:05:00"):
        answer = post_readings([{"sensor": "wl-1", "value": 1, "at": "2026-07-01T09:05:00+08:00"}])
        assert answer.json()["accepted"] == 1
    fault = VitalWarning.objects.get(sensor=silent_sensor)
    assert fault.state == "resolved" and fault.resolved_at == datetime(2026, 7, 1, 1, 5, tzinfo=UTC)
    assert list(WarningRecord.objects.filter(warning=fault).values_list("action", flat=True)) == ["issue", "lift"]
    with freeze_time("2026-07-01 01:20:00"):
        assert nodata_sweep() == 0  # heard from 15 minutes ago
    with freeze_time("2026-07-01 01:36:00"):
        assert nodata_sweep() == 1


def test_reading_time_does_not_matter_only_arrival(silent_sensor, post_readings):
    """A replayed old series keeps the sensor alive: NoData is about the device talking, on the wall clock."""
    with freeze_time("2026-07-01 00:20:00"):
        post_readings([{"sensor": "wl-1", "value": 1, "at": "2020-01-01T00:00:00+08:00"}])
    with freeze_time("2026-07-01 00:45:00"):
        assert nodata_sweep() == 0
    silent_sensor.refresh_from_db()
    assert silent_sensor.last_seen_at == datetime(2026, 7, 1, 0, 20, tzinfo=UTC)
