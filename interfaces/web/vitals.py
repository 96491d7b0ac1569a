"""The city vital-signs dashboard (城市体征 /vitals/), for operators and supervisors, scoped to their units.

The page renders everything as HTML tables (it works without JavaScript); static/js/vitals.js draws the
sparklines and the sensor map with ECharts from the project's own static files, and in wall mode (大屏,
`?wall=1`) refreshes itself from `vitals/data.json` every REFRESH_SECONDS. Every read goes through the
scoped selectors of `vitals.selectors` and `incidents.selectors`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.models import OrgUnit, Tier, User
from accounts.selectors import jurisdiction_q, units_granting
from incidents.models import Event
from incidents.selectors import events_for_user
from vitals.levels import LEVELS, SEVERITY
from vitals.models import Indicator, VitalWarning
from vitals.selectors import (
    IndicatorStatus,
    SensorStatus,
    indicator_statuses,
    open_warnings_for_user,
    sensor_statuses,
    sparklines,
)

REFRESH_SECONDS = 30
# A wall shows a city; a list of more than this would not be read, and the map caps its polygons.
MAX_WARNINGS = 200
MAX_SENSORS = 5000
MAX_GRIDS = 3000
SPARK_HOURS = 24


def _may_watch(user: User) -> bool:
    """Operators and supervisors (and administrators through their grants) watch the city's vital signs."""
    return bool(user.is_superuser or units_granting(user, "operate_event") or units_granting(user, "supervise_event"))


@dataclass(frozen=True)
class Dashboard:
    domains: list[tuple[str, list[dict[str, Any]]]]
    warnings: list[dict[str, Any]]
    sensors: list[dict[str, Any]]
    grids: dict[str, Any]
    counts: dict[str, int]
    generated_at: datetime


def _level_label(level: str | None) -> str:
    labels = {"blue": _("blue (IV)"), "yellow": _("yellow (III)"), "orange": _("orange (II)"), "red": _("red (I)")}
    return labels.get(level or "", pgettext("vital sign level", "normal"))


def _indicator_row(status: IndicatorStatus, spark: list[float | None]) -> dict[str, Any]:
    indicator: Indicator = status.indicator
    return {
        "code": indicator.code,
        "name": indicator.name,
        "group": indicator.group,
        "unit": indicator.unit,
        "level": status.level,
        "level_label": _level_label(status.level),
        "firing": status.firing,
        "pending": status.pending,
        "sensors": status.sensors,
        "spark": spark,
    }


def _visible_events(user: User, warnings: list[VitalWarning]) -> dict[int, Event]:
    """The events of these warnings that the user may open (the warning's scope is its sensor's)."""
    ids = {w.event_id for w in warnings if w.event_id}
    if not ids:
        return {}
    return {e.pk: e for e in events_for_user(user).filter(pk__in=ids)}


def _warning_row(warning: VitalWarning, events: dict[int, Event]) -> dict[str, Any]:
    event = events.get(warning.event_id) if warning.event_id else None
    return {
        "id": warning.pk,
        "indicator": warning.indicator.name,
        "indicator_code": warning.indicator.code,
        "unit": warning.indicator.unit,
        "sensor": warning.sensor.code,
        "sensor_name": warning.sensor.name,
        "grid": warning.sensor.grid.name,
        "kind": warning.kind,
        "level": warning.level,
        "level_label": _level_label(warning.level),
        "state": warning.state,
        "state_label": warning.get_state_display(),
        "started_at": warning.started_at,
        "fired_at": warning.fired_at,
        "peak_value": warning.peak_value,
        "event": None
        if event is None
        else {
            "code": event.code,
            "url": reverse("event-detail", args=[event.pk]),
            "state": event.get_state_display(),
            "due_at": event.due_at,
            "light": event.light,
        },
    }


def _sensor_row(status: SensorStatus) -> dict[str, Any]:
    sensor = status.sensor
    return {
        "code": sensor.code,
        "name": sensor.name,
        "indicator": sensor.indicator.name,
        "value": sensor.last_value,
        "unit": sensor.indicator.unit,
        "lon": sensor.longitude,
        "lat": sensor.latitude,
        "level": status.level,
        "state": status.state,
        "nodata": status.nodata,
    }


def _grid_features(user: User) -> dict[str, Any]:
    """The grids of the user's jurisdiction as a GeoJSON FeatureCollection, for the sensor map's base."""
    area = jurisdiction_q(user, "view_events")
    grids = (
        OrgUnit.objects.filter(area, tier=Tier.GRID, boundary__isnull=False)
        .order_by("path")
        .values_list("code", "name", "boundary")[:MAX_GRIDS]
    )
    features = [
        {"type": "Feature", "properties": {"name": f"{name} {code}"}, "geometry": boundary}
        for code, name, boundary in grids
        if isinstance(boundary, dict) and boundary.get("type") in ("Polygon", "MultiPolygon")
    ]
    return {"type": "FeatureCollection", "features": features}


def dashboard_for(user: User) -> Dashboard:
    now = timezone.now()
    spark = sparklines(user, now, hours=SPARK_HOURS)
    domains = [
        (domain, [_indicator_row(s, spark.get(s.indicator.pk, [None] * SPARK_HOURS)) for s in statuses])
        for domain, statuses in indicator_statuses(user).items()
    ]
    open_rows = list(open_warnings_for_user(user)[:MAX_WARNINGS])
    # Firing before pending, the most severe first, then the newest.
    open_rows.sort(key=lambda w: (w.state != "firing", -SEVERITY.get(w.level, 0), -w.started_at.timestamp()))
    events = _visible_events(user, open_rows)
    warnings = [_warning_row(w, events) for w in open_rows]
    sensors = [_sensor_row(s) for s in sensor_statuses(user)[:MAX_SENSORS]]
    counts = {level: sum(1 for w in warnings if w["state"] == "firing" and w["level"] == level) for level in LEVELS}
    counts["pending"] = sum(1 for w in warnings if w["state"] == "pending")
    counts["nodata"] = sum(1 for s in sensors if s["nodata"])
    return Dashboard(domains, warnings, sensors, _grid_features(user), counts, now)


@login_required
def vitals_dashboard(request: HttpRequest) -> HttpResponse:
    if not _may_watch(request.user):
        raise Http404
    board = dashboard_for(request.user)
    wall = request.GET.get("wall") == "1"
    return render(
        request,
        "vitals/dashboard.html",
        {
            "board": board,
            "wall": wall,
            "refresh_seconds": REFRESH_SECONDS,
            "levels": [(level, _level_label(level), board.counts[level]) for level in reversed(LEVELS)],
            "time_zone": settings.TIME_ZONE,
            "chart_data": _payload(board),
        },
    )


def _payload(board: Dashboard) -> dict[str, Any]:
    return {
        "generated_at": board.generated_at.isoformat(),
        "domains": [{"domain": domain, "indicators": rows} for domain, rows in board.domains],
        "warnings": board.warnings,
        "sensors": board.sensors,
        "grids": board.grids,
        "counts": board.counts,
        "spark_hours": SPARK_HOURS,
    }


@login_required
def vitals_data(request: HttpRequest) -> JsonResponse:
    """The dashboard's figures as JSON: what the wall mode refreshes from."""
    if not _may_watch(request.user):
        raise Http404
    response = JsonResponse(_payload(dashboard_for(request.user)))
    response["Cache-Control"] = "private, no-store"
    return response
