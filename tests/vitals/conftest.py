"""Vital-signs fixtures: an indicator in the promtool style, sensors in the demo city, a series poster.

Points in the demo city: 南湖街道 一村 grid 01 spans lon 120.00–120.05, lat 30.00–30.0333 (江南区);
西岭街道 (河西区) starts at lon 120.10.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from accounts.models import OrgUnit, Role, User
from accounts.services import membership_grant
from incidents.models import Category
from vitals.models import Indicator, Sensor

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 7, 1, 8, 0, tzinfo=SHANGHAI)

NANHU_GRID1 = (30.01, 120.02)
NANHU_GRID1_B = (30.02, 120.03)
NANHU_GRID2 = (30.045, 120.02)
XILING = (30.01, 120.12)


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def series(sensor: str, values, step: float = 5, start: float = 0) -> list[dict]:
    """A promtool-style series: `values` at `step`-minute intervals from T0 + start."""
    if isinstance(values, str):
        values = [float(v) for v in values.split()]
    return [{"sensor": sensor, "value": v, "at": at(start + i * step)} for i, v in enumerate(values)]


@pytest.fixture
def depth(db) -> Indicator:
    """Waterlogging depth in cm: blue 5, yellow 10, orange 20, red 30; holds 10 minutes."""
    return Indicator.objects.create(
        code="test-depth",
        name="路面积水深度",
        domain="城市生命线",
        group="排水",
        unit="cm",
        direction="above",
        thresholds={"blue": 5, "yellow": 10, "orange": 20, "red": 30},
        for_minutes=10,
        category=Category.objects.get(code="E0402"),
    )


def make_sensor(code: str, indicator: Indicator, point=NANHU_GRID1, **extra) -> Sensor:
    sensor = Sensor(
        code=code, name=f"传感器 {code}", indicator=indicator, latitude=point[0], longitude=point[1], **extra
    )
    sensor.full_clean()
    sensor.save()
    return sensor


def make_integrator(username: str = "iot_platform", unit: str = "990100") -> User:
    """A 接入方 (an IoT platform's account) at `unit`."""
    person = User.objects.create(username=username, display_name="物联网平台")
    membership_grant(user=person, role=Role.INTEGRATOR, org_unit=OrgUnit.objects.get(code=unit))
    return person


@pytest.fixture
def integrator(db) -> User:
    return make_integrator()


@pytest.fixture
def post_readings(client, integrator):
    """POST a batch as the integrator (JSON, or CSV text); returns the response."""

    def post(rows, content_type="application/json"):
        client.force_login(integrator)
        body = rows if isinstance(rows, str) else json.dumps(rows)
        return client.post("/api/v1/readings", body, content_type=content_type)

    return post
