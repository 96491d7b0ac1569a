"""Grouping windows, inhibitions and silences: the warning is recorded, the event is not filed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accounts.models import OrgUnit, Tier
from incidents.models import Category, Event, Source
from tests.vitals.conftest import NANHU_GRID1, NANHU_GRID1_B, NANHU_GRID2, T0, XILING, make_sensor, series
from vitals.models import Indicator, Inhibition, Silence, VitalWarning, WarningRecord

pytestmark = pytest.mark.django_db


def sensor_events() -> int:
    return Event.objects.filter(source=Source.SENSOR).count()


def test_outside_the_grouping_window_a_second_warning_files_its_own_event(depth, post_readings):
    depth.group_minutes = 10
    depth.save()
    make_sensor("wl-1", depth, NANHU_GRID1)
    make_sensor("wl-2", depth, NANHU_GRID1_B)
    # wl-1 fires at t=10, wl-2 at t=40: 30 minutes apart, window 10.
    post_readings(series("wl-1", "12 12 12") + series("wl-2", "12 12 12", start=30))
    events = set(VitalWarning.objects.values_list("event__code", flat=True))
    assert len(events) == 2 and None not in events


def test_other_grids_do_not_group(depth, post_readings):
    make_sensor("wl-1", depth, NANHU_GRID1)
    make_sensor("wl-2", depth, NANHU_GRID2)
    post_readings(series("wl-1", "12 12 12") + series("wl-2", "12 12 12"))
    assert sensor_events() == 2


def test_a_silence_mutes_filing_but_keeps_the_warning(depth, post_readings):
    sensor = make_sensor("wl-1", depth)
    Silence.objects.create(reason="管网检修", sensor=sensor, starts_at=T0, ends_at=T0 + timedelta(hours=1))
    post_readings(series("wl-1", "12 12 12"))
    warning = VitalWarning.objects.get(sensor=sensor)
    assert warning.state == "firing" and warning.event is None
    assert warning.muted.startswith("silence:")
    assert WarningRecord.objects.filter(warning=warning, action="mute").exists()
    assert sensor_events() == 0


def test_after_the_silence_ends_a_level_change_files_the_event(depth, post_readings):
    sensor = make_sensor("wl-1", depth)
    Silence.objects.create(reason="检修", area=OrgUnit.objects.get(code="990102001"), starts_at=T0,
                           ends_at=T0 + timedelta(minutes=12))  # fmt: skip
    post_readings(series("wl-1", "12 12 12 25"))  # fires at t=10 (silenced), orange at t=15 (not)
    warning = VitalWarning.objects.get(sensor=sensor)
    assert warning.event is not None and warning.level == "orange"
    assert sensor_events() == 1


def test_a_silence_elsewhere_does_not_mute(depth, post_readings):
    make_sensor("wl-1", depth)
    Silence.objects.create(reason="检修", area=OrgUnit.objects.get(code="990103"), starts_at=T0,
                           ends_at=T0 + timedelta(hours=1))  # fmt: skip
    post_readings(series("wl-1", "12 12 12"))
    assert sensor_events() == 1


def test_a_district_wide_warning_inhibits_the_device_warnings_inside_it(depth, post_readings):
    river = Indicator.objects.create(
        code="test-river", name="河道水位", domain="城市生命线", group="防汛", unit="m",
        thresholds={"yellow": 4, "red": 5}, category=Category.objects.get(code="E0402"),
    )  # fmt: skip
    Inhibition.objects.create(name="汛期水位压制积水", source=river, source_level="yellow", target=depth,
                              scope_tier=Tier.DISTRICT)  # fmt: skip
    make_sensor("river-1", river, NANHU_GRID2)
    make_sensor("wl-1", depth, NANHU_GRID1)
    make_sensor("wl-x", depth, XILING)  # 河西区: outside the inhibiting district
    post_readings(series("river-1", "4.2") + series("wl-1", "12 12 12", start=5) + series("wl-x", "12 12 12", start=5))
    river_warning = VitalWarning.objects.get(sensor__code="river-1")
    assert river_warning.event is not None  # the wide warning itself files
    muted = VitalWarning.objects.get(sensor__code="wl-1")
    assert muted.state == "firing" and muted.event is None and muted.muted.startswith("inhibition:")
    assert VitalWarning.objects.get(sensor__code="wl-x").event is not None
    assert sensor_events() == 2


def test_an_indicator_without_a_category_warns_but_files_nothing(depth, post_readings):
    depth.category = None
    depth.save()
    make_sensor("wl-1", depth)
    post_readings(series("wl-1", "35 35 35"))
    warning = VitalWarning.objects.get()
    assert warning.state == "firing" and warning.level == "red" and warning.event is None
    assert sensor_events() == 0
