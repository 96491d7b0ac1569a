"""Likely duplicates: open events of the same category, close by, recent."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from incidents.models import OPEN_STATES, Category, Event

EARTH_RADIUS_M = 6_371_000


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


@dataclass(frozen=True)
class Duplicate:
    event: Event
    distance_m: float


def likely_duplicates(
    *,
    category: Category,
    latitude: float,
    longitude: float,
    at: datetime,
    among: QuerySet[Event] | None = None,
    exclude_id: int | None = None,
    radius_m: float | None = None,
    window_hours: float | None = None,
    limit: int = 10,
) -> list[Duplicate]:
    """Open events of the same category within the radius and time window, nearest first.

    `among` narrows the search to what the asking user may see. One query: a bounding box and
    time range that the partial index `event_open_duplicate_box` (category, latitude, longitude,
    reported_at; open events only) answers, no model ordering, the nearest `limit` by the local
    planar distance (exact enough at these few hundred metres to rank) sorted in the database,
    and only the columns a caller shows. Then the great-circle distance cuts the box to the circle.
    """
    radius = radius_m if radius_m is not None else settings.DUPLICATE_RADIUS_METERS
    window = window_hours if window_hours is not None else settings.DUPLICATE_WINDOW_HOURS
    dlat = math.degrees(radius / EARTH_RADIUS_M)
    shrink = max(math.cos(math.radians(latitude)), 0.01)  # a degree of longitude is this much shorter
    dlon = dlat / shrink
    qs = (among if among is not None else Event.objects.all()).filter(
        category=category,
        state__in=OPEN_STATES,
        reported_at__gte=at - timedelta(hours=window),
        reported_at__lte=at,
        latitude__range=(latitude - dlat, latitude + dlat),
        longitude__range=(longitude - dlon, longitude + dlon),
    )
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    # Written out: the ORM resolving the same arithmetic from F() expressions cost more CPU per
    # intake than running the query (#20).
    planar = RawSQL(_PLANAR, (latitude, latitude, longitude, shrink, longitude, shrink))  # noqa: S611 - parameters
    nearest = qs.order_by(planar, "-pk").only(*SHOWN)[:limit]  # replaces the model's ORDER BY reported_at DESC
    found = [Duplicate(e, round(distance_m(latitude, longitude, e.latitude, e.longitude), 1)) for e in nearest]
    return sorted((d for d in found if d.distance_m <= radius), key=lambda d: (d.distance_m, -d.event.pk))


# The local planar distance² to (%s, %s) scaled by %s: only the point's numbers are parameters.
_LAT, _LON = (f'"{Event._meta.db_table}"."{column}"' for column in ("latitude", "longitude"))
_PLANAR = f"(({_LAT} - %s) * ({_LAT} - %s) + (({_LON} - %s) * %s) * (({_LON} - %s) * %s))"

# What callers show of a duplicate (the API its code; the report form its title, state and link).
SHOWN = ("id", "code", "title", "state", "category_id", "latitude", "longitude")
