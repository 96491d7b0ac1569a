"""The dashboard's reads (vitals.selectors), scoped: a street operator's figures count only their sensors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.vitals.conftest import NANHU_GRID1, T0, XILING, make_sensor, series
from vitals import partitions
from vitals.selectors import indicator_statuses, open_warnings_for_user, sensor_statuses, sparklines

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_streets(depth, post_readings):
    make_sensor("wl-nanhu", depth, NANHU_GRID1)
    make_sensor("wl-xiling", depth, XILING)
    post_readings(series("wl-nanhu", "12 12 12 25") + series("wl-xiling", "35 35 35 35"))


def test_indicator_statuses_give_the_most_severe_firing_level_the_user_may_see(persona, depth, two_streets):
    def status(username):
        [found] = [s for s in indicator_statuses(persona(username))["城市生命线"] if s.indicator.pk == depth.pk]
        return found.level, found.firing, found.sensors

    assert status("op_nanhu") == ("orange", 1, 1)
    assert status("op_hexi") == ("red", 1, 1)
    assert status("op_city") == ("red", 2, 2)


def test_sensor_statuses_and_open_warnings_are_scoped(persona, two_streets):
    mine = sensor_statuses(persona("op_nanhu"))
    assert [(s.sensor.code, s.level, s.state) for s in mine] == [("wl-nanhu", "orange", "firing")]
    warnings = list(open_warnings_for_user(persona("op_nanhu")))
    assert [w.sensor.code for w in warnings] == ["wl-nanhu"] and warnings[0].event is not None


def test_sparklines_read_the_roll_up_and_the_current_hour(persona, depth, two_streets, post_readings):
    now = T0 + timedelta(hours=1, minutes=30)
    post_readings(series("wl-nanhu", "7", start=75))  # in the current hour
    start = (T0 - timedelta(hours=1)).replace(minute=0)
    partitions.roll_up(start, now.replace(minute=0))
    line = sparklines(persona("op_nanhu"), now, hours=3)[depth.pk]
    assert line == [None, 25, 7]  # the hour before T0, T0's hour (max 25, Xiling's 35 unseen), the current one
