"""The vital-signs dashboard in a real browser under the production CSP: the charts draw, nothing errs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import OrgUnit, Tier
from tests.web.test_browser import SHOTS, Session, _no_horizontal_overflow, browser  # noqa: F401 - the fixture
from vitals.models import Indicator, Reading, Sensor, VitalWarning, WarningState

pytestmark = pytest.mark.browser


def _city_with_a_warning() -> None:
    grid = OrgUnit.objects.filter(tier=Tier.GRID, path__contains="/990102001/").order_by("path").first()
    ring = grid.boundary["coordinates"][0]
    indicator = Indicator.objects.create(
        code="browser-waterlogging", name="路面积水深度", domain="城市生命线", group="排水", unit="cm",
        thresholds={"blue": 5, "yellow": 10, "orange": 20, "red": 30},
    )  # fmt: skip
    sensor = Sensor.objects.create(
        code="wl-browser-1", name="积水监测点", indicator=indicator, latitude=ring[0][1], longitude=ring[0][0],
        grid=grid, area_path=grid.path, last_value=31.0,
    )  # fmt: skip
    now = timezone.now()
    for minutes in range(0, 60, 5):
        Reading.objects.create(sensor=sensor, at=now - timedelta(minutes=minutes), value=30 - minutes / 3)
    VitalWarning.objects.create(
        indicator=indicator, sensor=sensor, level="red", state=WarningState.FIRING, started_at=now - timedelta(hours=1),
        fired_at=now - timedelta(minutes=50), peak_value=31.0, area_path=grid.path,
    )  # fmt: skip


@pytest.mark.usefixtures("committed_city")
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_dashboard_draws_its_charts_under_the_production_csp(browser, live_server, settings, size):  # noqa: F811
    settings.CSP_HEADER = settings.CSP_STRICT_POLICY
    _city_with_a_warning()
    session = Session(browser, live_server.url, size, "op_nanhu")
    errors: list[str] = []
    session.page.on("console", lambda msg: errors.append(f"{msg.text} {msg.location}") if msg.type == "error" else None)
    session.page.on("pageerror", lambda exc: errors.append(f"{exc} {exc.stack}"))
    for path, name in (("/vitals/", "19-vitals"), ("/vitals/?wall=1", "20-vitals-wall")):
        session.go(path)
        session.page.wait_for_selector("#vitals-map canvas", timeout=15000)
        assert session.page.locator("[data-spark='browser-waterlogging'] canvas").count() == 1
        assert "wl-browser-1" in session.page.inner_text("#warning-rows")
        assert _no_horizontal_overflow(session.page)
        session.shot(name)
    assert errors == [], "\n".join(errors)
    session.close()
    assert (SHOTS / f"{size}-19-vitals.png").exists()
