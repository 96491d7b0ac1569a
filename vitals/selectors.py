"""Scoped reads of vital signs: every list, count, map and dashboard of sensors and warnings starts here.

A user sees the sensors (and their warnings and readings) located inside the units where they hold
`view_events` (operators, supervisors, grid workers: their subtree), the sensors their departments
own (handlers), and the sensors inside the units where they are 接入方 (integrator) or administrator.
Indicators are configuration: every signed-in user reads them.

For the /vitals/ dashboard: `indicator_statuses` (each domain's indicators with their current level),
`sparklines` (last 24 hours per indicator), `open_warnings_for_user` (firing warnings with their
events and time limits), `sensor_statuses` (the map: sensors coloured by level).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Max, Q, QuerySet

from accounts.models import Membership, OrgUnit, Role, User
from accounts.selectors import departments_granting, jurisdiction_q
from vitals.levels import SEVERITY
from vitals.models import OPEN_WARNING_STATES, Indicator, Reading, ReadingHourly, Sensor, VitalWarning, WarningState


def _signed_in(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active)


def membership_units(user: User, role: str) -> list[OrgUnit]:
    """The units where the user holds `role` (their subtree is the role's reach)."""
    if not _signed_in(user):
        return []
    memberships = Membership.objects.filter(user=user, role=role).select_related("org_unit")
    return [m.org_unit for m in memberships if m.org_unit is not None]


def _paths_q(units: list[OrgUnit], field: str = "area_path") -> Q:
    q = Q(pk__in=[])
    for unit in units:
        q |= Q(**{f"{field}__startswith": unit.path})
    return q


def is_vitals_admin(user: User) -> bool:
    """May configure indicators: a superuser or an administrator at a top unit (the city)."""
    if not _signed_in(user):
        return False
    return user.is_superuser or any(u.parent_id is None for u in membership_units(user, Role.ADMIN))


def admin_area_q(user: User) -> Q | None:
    """Where the user may place sensors: Q() for everywhere, a path Q, or None for nowhere."""
    if not _signed_in(user):
        return None
    if user.is_superuser:
        return Q()
    units = membership_units(user, Role.ADMIN)
    return _paths_q(units) if units else None


def may_place_sensor(user: User, area_path: str) -> bool:
    """May the user put (or keep) a sensor at a point of this grid path: a superuser, or an administrator above it."""
    if not _signed_in(user):
        return False
    return user.is_superuser or any(area_path.startswith(u.path) for u in membership_units(user, Role.ADMIN))


def reading_scope_q(user: User) -> Q | None:
    """The sensors the user may send readings for (admins and 接入方 integrators), or None for none."""
    if not _signed_in(user):
        return None
    if user.is_superuser:
        return Q()
    units = membership_units(user, Role.ADMIN) + membership_units(user, Role.INTEGRATOR)
    return _paths_q(units) if units else None


def sensor_scope_q(user: User, prefix: str = "") -> Q:
    """The Q limiting sensors (or, with `prefix="sensor__"`, rows that hang off a sensor) to what the user sees."""
    if not _signed_in(user):
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    area = f"{prefix}area_path"
    q = jurisdiction_q(user, "view_events", path_field=area)
    if q == Q():
        return q
    extra = membership_units(user, Role.ADMIN) + membership_units(user, Role.INTEGRATOR)
    if extra:
        q |= _paths_q(extra, area)
    if departments := departments_granting(user, "view_department_events"):
        q |= Q(**{f"{prefix}owner_department__in": departments})
    return q


def sensors_for_user(user: User, qs: QuerySet[Sensor] | None = None) -> QuerySet[Sensor]:
    return (qs if qs is not None else Sensor.objects.all()).filter(sensor_scope_q(user))


def warnings_for_user(user: User, qs: QuerySet[VitalWarning] | None = None) -> QuerySet[VitalWarning]:
    """Warnings of the sensors the user sees (the warning copies its sensor's area path)."""
    q = sensor_scope_q(user)
    qs = qs if qs is not None else VitalWarning.objects.all()
    if q == Q():
        return qs
    if not _signed_in(user):
        return qs.none()
    visible = Sensor.objects.filter(q).values("pk")
    return qs.filter(sensor__in=visible)


def open_warnings_for_user(user: User) -> QuerySet[VitalWarning]:
    """Open warnings (firing first, most severe first) with their sensors, indicators and events."""
    return (
        warnings_for_user(user)
        .filter(state__in=OPEN_WARNING_STATES)
        .select_related("sensor", "indicator", "event", "sensor__grid")
        .order_by("state", "-started_at")
    )


def readings_for_user(user: User, qs: QuerySet[Reading] | None = None) -> QuerySet[Reading]:
    qs = qs if qs is not None else Reading.objects.all()
    return qs.filter(sensor__in=sensors_for_user(user).values("pk"))


def indicators_for_user(user: User) -> QuerySet[Indicator]:
    if not _signed_in(user):
        return Indicator.objects.none()
    return Indicator.objects.select_related("category")


@dataclass(frozen=True)
class IndicatorStatus:
    indicator: Indicator
    level: str | None  # the most severe firing level among the user's sensors; None = normal
    firing: int
    pending: int
    sensors: int


def indicator_statuses(user: User) -> dict[str, list[IndicatorStatus]]:
    """Per domain (in order), each active indicator with the current level over the sensors the user sees."""
    sensors = sensors_for_user(user, Sensor.objects.filter(is_active=True))
    counts: dict[int, int] = defaultdict(int)
    for indicator_id in sensors.values_list("indicator_id", flat=True):
        counts[indicator_id] += 1
    levels: dict[int, str] = {}
    firing: dict[int, int] = defaultdict(int)
    pending: dict[int, int] = defaultdict(int)
    open_rows = warnings_for_user(user).filter(state__in=OPEN_WARNING_STATES, kind="threshold")
    for indicator_id, state, level in open_rows.values_list("indicator_id", "state", "level"):
        if state == WarningState.FIRING:
            firing[indicator_id] += 1
            if indicator_id not in levels or SEVERITY[level] > SEVERITY[levels[indicator_id]]:
                levels[indicator_id] = level
        else:
            pending[indicator_id] += 1
    out: dict[str, list[IndicatorStatus]] = {}
    for indicator in indicators_for_user(user).filter(is_active=True):
        out.setdefault(indicator.domain, []).append(
            IndicatorStatus(
                indicator=indicator,
                level=levels.get(indicator.pk),
                firing=firing[indicator.pk],
                pending=pending[indicator.pk],
                sensors=counts[indicator.pk],
            )
        )
    return out


@dataclass(frozen=True)
class SensorStatus:
    sensor: Sensor
    level: str | None  # the level of its open firing threshold warning
    state: str | None  # pending | firing | None
    nodata: bool


def sensor_statuses(user: User) -> list[SensorStatus]:
    """The map: every sensor the user sees, with its open warning's level (None = normal)."""
    sensors = list(sensors_for_user(user, Sensor.objects.filter(is_active=True)).select_related("indicator"))
    ids = [s.pk for s in sensors]
    threshold: dict[int, tuple[str, str]] = {}
    nodata: set[int] = set()
    rows = VitalWarning.objects.filter(sensor_id__in=ids, state__in=OPEN_WARNING_STATES)
    for sensor_id, kind, state, level in rows.values_list("sensor_id", "kind", "state", "level"):
        if kind == "nodata":
            nodata.add(sensor_id)
        else:
            threshold[sensor_id] = (state, level)
    return [
        SensorStatus(
            sensor=s,
            state=threshold[s.pk][0] if s.pk in threshold else None,
            level=threshold[s.pk][1] if s.pk in threshold and threshold[s.pk][0] == WarningState.FIRING else None,
            nodata=s.pk in nodata,
        )
        for s in sensors
    ]


def sparklines(user: User, now: datetime, hours: int = 24) -> dict[int, list[float | None]]:
    """Per indicator, the hourly maximum over the user's sensors for the last `hours` hours (oldest first).

    Complete hours come from the hourly roll-up; the current hour from the raw readings.
    """
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    start = this_hour - timedelta(hours=hours - 1)
    visible = sensors_for_user(user).values("pk")
    series: dict[int, dict[datetime, float]] = defaultdict(dict)
    hourly = (
        ReadingHourly.objects.filter(sensor__in=visible, hour__gte=start, hour__lt=this_hour)
        .values("sensor__indicator_id", "hour")
        .annotate(top=Max("maximum"))
    )
    for row in hourly:
        series[row["sensor__indicator_id"]][row["hour"]] = row["top"]
    current = (
        Reading.objects.filter(sensor__in=visible, at__gte=this_hour, at__lte=now)
        .values("sensor__indicator_id")
        .annotate(top=Max("value"))
    )
    for now_row in current:
        series[now_row["sensor__indicator_id"]][this_hour] = now_row["top"]
    slots = [start + timedelta(hours=i) for i in range(hours)]
    return {indicator_id: [points.get(slot) for slot in slots] for indicator_id, points in series.items()}
