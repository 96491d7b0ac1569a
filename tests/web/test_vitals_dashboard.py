"""The vital-signs dashboard (/vitals/): scoped to the viewer's units, drawn from our own static ECharts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from accounts.models import OrgUnit, Tier
from incidents.models import Category
from operations import services
from vitals.models import Indicator, Reading, ReadingHourly, Sensor, VitalWarning, WarningState

NOW = "2026-07-01T10:20:00+08:00"


def _grid(street_code: str) -> OrgUnit:
    return OrgUnit.objects.filter(tier=Tier.GRID, path__contains=f"/{street_code}/").order_by("path").first()


@pytest.fixture
def waterlogging(db):
    return Indicator.objects.create(
        code="test-waterlogging",
        name="路面积水深度",
        domain="城市生命线",
        group="排水",
        unit="cm",
        thresholds={"blue": 5, "yellow": 10, "orange": 20, "red": 30},
        for_minutes=10,
        category=Category.objects.filter(parent__isnull=False).first(),
    )


def _sensor(indicator: Indicator, code: str, grid: OrgUnit) -> Sensor:
    return Sensor.objects.create(
        code=code, name=f"积水监测点 {code}", indicator=indicator, latitude=30.0, longitude=120.0,
        grid=grid, area_path=grid.path,
    )  # fmt: skip


@pytest.fixture
def city_sensors(waterlogging):
    nanhu = _sensor(waterlogging, "wl-nanhu-1", _grid("990102001"))
    elsewhere = _sensor(waterlogging, "wl-elsewhere-1", _grid("990103001"))  # 河西区 西岭街道
    with freeze_time(NOW):
        now = timezone.now()
        VitalWarning.objects.create(
            indicator=waterlogging, sensor=nanhu, level="orange", state=WarningState.FIRING,
            started_at=now - timedelta(minutes=30), fired_at=now - timedelta(minutes=20), peak_value=24.5,
            area_path=nanhu.area_path,
        )  # fmt: skip
        VitalWarning.objects.create(
            indicator=waterlogging, sensor=elsewhere, level="red", state=WarningState.FIRING,
            started_at=now - timedelta(minutes=30), fired_at=now - timedelta(minutes=20), peak_value=41.0,
            area_path=elsewhere.area_path,
        )  # fmt: skip
        Reading.objects.create(sensor=nanhu, at=now - timedelta(minutes=5), value=22.0)
        hour = now.replace(minute=0, second=0, microsecond=0)
        ReadingHourly.objects.create(
            sensor=nanhu, hour=hour - timedelta(hours=3), count=12, minimum=1, maximum=7.5, mean=3
        )
    return nanhu, elsewhere


@freeze_time(NOW)
def test_the_street_operator_sees_only_their_streets_sensors_and_warnings(city_sensors, login):
    client = login("op_nanhu")
    page = client.get("/vitals/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    assert "wl-nanhu-1" in html
    assert "wl-elsewhere-1" not in html
    data = client.get("/vitals/data.json").json()
    assert [w["sensor"] for w in data["warnings"]] == ["wl-nanhu-1"]
    assert [s["code"] for s in data["sensors"]] == ["wl-nanhu-1"]
    assert data["counts"]["orange"] == 1 and data["counts"]["red"] == 0
    indicator = next(i for d in data["domains"] for i in d["indicators"] if i["code"] == "test-waterlogging")
    assert indicator["level"] == "orange" and indicator["sensors"] == 1
    # Oldest hour first: the hourly roll-up three hours ago, the raw reading in the current hour.
    assert len(indicator["spark"]) == 24
    assert indicator["spark"][-1] == 22.0 and indicator["spark"][-4] == 7.5
    assert indicator["spark"].count(None) == 22
    # The map's base is the viewer's own grids only.
    names = [f["properties"]["name"] for f in data["grids"]["features"]]
    assert names and all("990102001" in name for name in names)


@freeze_time(NOW)
def test_another_district_sees_its_own_red_warning_not_ours(city_sensors, login):
    data = login("op_hexi").get("/vitals/data.json").json()
    assert [w["sensor"] for w in data["warnings"]] == ["wl-elsewhere-1"]
    assert data["counts"]["red"] == 1 and data["counts"]["orange"] == 0


@freeze_time(NOW)
def test_the_warning_links_its_event_with_its_time_limit(city_sensors, login, persona):
    nanhu, _elsewhere = city_sensors
    grid_worker = persona("gw_nanhu1_01")
    grid = nanhu.grid
    ring = grid.boundary["coordinates"][0]
    lon = sum(p[0] for p in ring[:-1]) / (len(ring) - 1)
    lat = sum(p[1] for p in ring[:-1]) / (len(ring) - 1)
    event = services.event_file(
        actor=grid_worker, category=nanhu.indicator.category, title="路面积水", description="积水 24 cm",
        latitude=lat, longitude=lon,
    ).event  # fmt: skip
    VitalWarning.objects.filter(sensor=nanhu).update(event=event)
    client = login("op_nanhu")
    data = client.get("/vitals/data.json").json()
    linked = data["warnings"][0]["event"]
    assert linked["code"] == event.code
    assert linked["url"] == f"/events/{event.pk}/"
    assert linked["due_at"] is not None and linked["light"] in ("green", "yellow", "red")
    assert event.code in client.get("/vitals/").content.decode()


def test_who_may_watch(city_sensors, client, login):
    assert client.get("/vitals/").status_code == 302  # to the login page
    for username in ("hd_nanhu_huanwei", "gw_nanhu1_01"):
        client.logout()
        login(username)
        assert client.get("/vitals/").status_code == 404
        assert client.get("/vitals/data.json").status_code == 404
    client.logout()
    login("sup_nanhu")
    assert client.get("/vitals/").status_code == 200


def test_the_wall_mode_refreshes_itself_and_draws_with_our_own_echarts(city_sensors, login):
    client = login("op_nanhu")
    normal = client.get("/vitals/").content.decode()
    assert 'data-refresh="0"' in normal
    assert "/static/vendor/echarts/echarts.min.js" in normal and "/static/js/vitals.js" in normal
    assert "cdn" not in normal.lower()
    wall = client.get("/vitals/?wall=1").content.decode()
    assert 'class="wall"' in wall and 'data-refresh="30"' in wall
