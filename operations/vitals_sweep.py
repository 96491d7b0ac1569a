"""The vital signs' periodic work, on the wall clock: NoData, the civic-demand stream, readings upkeep.

Each is an idempotent scan the beat runs (operations.tasks): a missed or doubled tick is harmless.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.geometry import polygon_from_geojson
from accounts.models import OrgUnit, Tier
from incidents.models import Event, Source
from operations.services.readings import Received, readings_receive_system
from operations.services.warnings import device_fault_raise
from vitals import partitions
from vitals.models import Indicator, Sensor, VitalWarning, WarningKind, WarningState

CIVIC_DEMAND = "civic_demand_hourly"  # fixtures.reference.vitals names the indicator so


def nodata_sweep(now: datetime | None = None) -> int:
    """Raise a device-fault warning for each sensor silent past its indicator's `nodata_minutes`.

    Silent = nothing received (wall clock) since `last_seen_at`, or since it was created if it never
    reported. The next reading lifts the warning (operations.services.readings). Returns how many it raised.
    """
    now = now or timezone.now()
    raised = 0
    faulty = VitalWarning.objects.filter(kind=WarningKind.NODATA, state=WarningState.FIRING).values("sensor_id")
    for indicator in Indicator.objects.filter(is_active=True, nodata_minutes__isnull=False):
        cutoff = now - timedelta(minutes=indicator.nodata_minutes or 0)
        silent = (
            Sensor.objects.filter(indicator=indicator, is_active=True, is_virtual=False)
            .filter(Q(last_seen_at__lt=cutoff) | Q(last_seen_at__isnull=True, created_at__lt=cutoff))
            .exclude(pk__in=faulty)
            .select_related("owner_department")
        )
        for sensor in silent:
            try:
                with transaction.atomic():
                    device_fault_raise(sensor, sensor.last_seen_at or sensor.created_at, now)
            except IntegrityError:  # a concurrent sweep raised it first (one open no-data warning per sensor)
                continue
            raised += 1
    return raised


def _street_point(street: OrgUnit) -> tuple[float, float] | None:
    """A point inside the street's first grid (lowest code), where its virtual sensors stand."""
    grid = OrgUnit.objects.filter(path__startswith=street.path, tier=Tier.GRID, is_active=True).order_by("code").first()
    if grid is None or not grid.boundary:
        return None
    point = polygon_from_geojson(grid.boundary).representative_point()
    return point.y, point.x


def civic_demand(now: datetime | None = None) -> Received | None:
    """民生诉求体征: the events filed in the last complete hour, per street and category, as readings.

    One virtual sensor per (street, category) of the `civic_demand_hourly` indicator, created the first
    hour the pair has an event; a sensor that had events before reads 0 for a quiet hour, so its
    warning resolves. The reading's `at` is the hour's start. Sensor-filed events are not counted
    (they are the sensors' own signal). Running it twice for one hour changes nothing (duplicates).
    """
    indicator = Indicator.objects.filter(code=CIVIC_DEMAND, is_active=True).first()
    if indicator is None:
        return None
    now = now or timezone.now()
    end = now.replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=1)
    counts: Counter[tuple[str, str]] = Counter()
    rows = Event.objects.filter(reported_at__gte=start, reported_at__lt=end).exclude(source=Source.SENSOR)
    for area_path, category in rows.values_list("area_path", "category__code"):
        codes = [c for c in area_path.split("/") if c]
        if len(codes) >= Tier.STREET:
            counts[(codes[Tier.STREET - 1], category)] += 1
    existing = {s.code: s for s in Sensor.objects.filter(indicator=indicator, is_virtual=True)}
    streets = {u.code: u for u in OrgUnit.objects.filter(code__in={street for street, _c in counts})}
    readings: list[object] = []
    for (street_code, category), n in sorted(counts.items()):
        code = f"civic-{street_code}-{category}"
        if code not in existing and street_code in streets:
            point = _street_point(streets[street_code])
            if point is None:
                continue
            sensor = Sensor(
                code=code,
                name=f"{streets[street_code].name} {category} 诉求",
                indicator=indicator,
                latitude=point[0],
                longitude=point[1],
                is_virtual=True,
            )
            sensor.place()
            sensor.save()
            existing[code] = sensor
        readings.append({"sensor": code, "value": n, "at": start.isoformat()})
    counted = {f"civic-{street}-{category}" for street, category in counts}
    readings.extend(
        {"sensor": code, "value": 0, "at": start.isoformat()} for code in sorted(existing) if code not in counted
    )
    return readings_receive_system(readings, now=now) if readings else Received()


@dataclass(frozen=True)
class Upkeep:
    created: int
    dropped: int
    rolled_up: int
    deleted: int


def readings_upkeep(now: datetime | None = None) -> Upkeep:
    """Partitions ahead, the hourly roll-up of the last two days, raw readings past retention."""
    done = partitions.maintain(now or timezone.now(), settings.VITALS_RETENTION_DAYS)
    return Upkeep(len(done.created), len(done.dropped), done.rolled_up_hours, done.deleted_rows)
