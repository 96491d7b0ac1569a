"""Likely duplicates: open events of the same category, close by, recent."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet

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

    `among` narrows the search to what the asking user may see.
    """
    radius = radius_m if radius_m is not None else settings.DUPLICATE_RADIUS_METERS
    window = window_hours if window_hours is not None else settings.DUPLICATE_WINDOW_HOURS
    # A bounding box the indexes can use, then the exact distance in Python.
    dlat = math.degrees(radius / EARTH_RADIUS_M)
    dlon = dlat / max(math.cos(math.radians(latitude)), 0.01)
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
    # Distances from bare coordinates; only the nearest few become Event objects.
    near = []
    for pk, lat, lon in qs.values_list("pk", "latitude", "longitude")[:200]:
        d = distance_m(latitude, longitude, lat, lon)
        if d <= radius:
            near.append((round(d, 1), -pk))
    near.sort()
    nearest = near[:limit]
    events = qs.select_related("category").in_bulk([-neg_pk for _d, neg_pk in nearest])
    return [Duplicate(events[-neg_pk], d) for d, neg_pk in nearest if -neg_pk in events]  # deleted meanwhile
