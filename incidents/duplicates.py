"""Likely duplicates: open events of the same category, close by, recent."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from core.rows import columns, from_row
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

    `among` narrows the search to what the asking user may see (a scoped queryset: its WHERE is
    the scope). One query: a bounding box and time range that the partial index
    `event_open_duplicate_box` (category, latitude, longitude, reported_at; open events only)
    answers, no model ordering, the nearest `limit` by the local planar distance (exact enough at
    these few hundred metres to rank) sorted in the database, and only the columns a caller shows.
    Then the great-circle distance cuts the box to the circle.
    """
    radius = radius_m if radius_m is not None else settings.DUPLICATE_RADIUS_METERS
    window = window_hours if window_hours is not None else settings.DUPLICATE_WINDOW_HOURS
    dlat = math.degrees(radius / EARTH_RADIUS_M)
    shrink = max(math.cos(math.radians(latitude)), 0.01)  # a degree of longitude is this much shorter
    search = _Search(category, latitude, longitude, at - timedelta(hours=window), at, dlat, dlat / shrink, shrink)
    among = among if among is not None else Event.objects.all()
    try:
        scope = _where_of(among)
    except EmptyResultSet:  # a scope that matches nothing (Event.objects.none(), an outsider)
        return []
    if scope is None:  # a narrowed queryset this statement cannot take over: the ORM's way
        nearest = _by_queryset(among, search, exclude_id, limit)
    else:
        nearest = _by_statement(among.db, search, scope, exclude_id, limit)
    found = [Duplicate(e, round(distance_m(latitude, longitude, e.latitude, e.longitude), 1)) for e in nearest]
    return sorted((d for d in found if d.distance_m <= radius), key=lambda d: (d.distance_m, -d.event.pk))


@dataclass(frozen=True)
class _Search:
    category: Category
    latitude: float
    longitude: float
    since: datetime
    until: datetime
    dlat: float  # the box's half height and width, degrees
    dlon: float
    shrink: float  # cos(latitude): a degree of longitude is this much shorter

    @property
    def planar_params(self) -> tuple[float, ...]:
        lat, lon, k = self.latitude, self.longitude, self.shrink
        return (lat, lat, lon, k, lon, k)


def _where_of(qs: QuerySet[Event]) -> tuple[str, list] | None:
    """The SQL of a plain filtered queryset's WHERE ("" for none), or None when it is more than
    that (joins, limits, annotations, a distinct) and the ORM must run the search."""
    query = qs.query
    if (
        len(query.alias_map) > 1
        or query.is_sliced
        or query.distinct
        or query.annotations
        or query.extra
        or query.combinator
    ):
        return None
    if query.is_empty():
        raise EmptyResultSet
    if not query.where:
        return "", []
    sql, params = query.get_compiler(using=qs.db).compile(query.where)
    return sql, list(params)


def _by_statement(
    alias: str, search: _Search, scope: tuple[str, list], exclude_id: int | None, limit: int
) -> list[Event]:
    """The search as one written-out statement (`_SEARCH`), the scope's WHERE added to it."""
    connection = connections[alias]
    adapt = connection.ops.adapt_datetimefield_value
    lat, lon = search.latitude, search.longitude
    params: list = [search.category.pk, *_STATE_VALUES, adapt(search.since), adapt(search.until)]
    params += [lat - search.dlat, lat + search.dlat, lon - search.dlon, lon + search.dlon]
    sql = _SEARCH
    if exclude_id is not None:
        sql += f' AND "{_TABLE}"."id" <> %s'
        params.append(exclude_id)
    scope_sql, scope_params = scope
    if scope_sql:
        sql += f" AND ({scope_sql})"
        params += scope_params
    sql += f' ORDER BY {_PLANAR}, "{_TABLE}"."id" DESC LIMIT %s'
    params += [*search.planar_params, limit]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [from_row(Event, alias, SHOWN, row) for row in rows]


def _by_queryset(qs: QuerySet[Event], search: _Search, exclude_id: int | None, limit: int) -> list[Event]:
    """The same search through the ORM, for a scope that is not a plain WHERE."""
    lat, lon = search.latitude, search.longitude
    qs = qs.filter(
        category=search.category,
        state__in=OPEN_STATES,
        reported_at__gte=search.since,
        reported_at__lte=search.until,
        latitude__range=(lat - search.dlat, lat + search.dlat),
        longitude__range=(lon - search.dlon, lon + search.dlon),
    )
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    planar = RawSQL(_PLANAR, search.planar_params)  # noqa: S611 - parameters
    return list(qs.order_by(planar, "-pk").only(*SHOWN)[:limit])  # not the model's ORDER BY reported_at DESC


_TABLE = Event._meta.db_table
# The local planar distance² to (%s, %s) scaled by %s: only the point's numbers are parameters.
_LAT, _LON = (f'"{_TABLE}"."{column}"' for column in ("latitude", "longitude"))
_PLANAR = f"(({_LAT} - %s) * ({_LAT} - %s) + (({_LON} - %s) * %s) * (({_LON} - %s) * %s))"

# What callers show of a duplicate (the API its code; the report form its title, state and link).
SHOWN = ("id", "code", "title", "state", "category_id", "latitude", "longitude")

# Written out once (#20): the ORM compiling the search per intake cost more CPU than running it.
# The same WHERE as `_by_queryset`'s filter, in the order the partial index reads it.
_COLUMNS = columns(Event, SHOWN, f'"{_TABLE}"')
# Plain text: SQLite's driver binds a str subclass (the State enum) as something no text equals.
_STATE_VALUES = [str(state) for state in OPEN_STATES]
_STATES = ", ".join(["%s"] * len(OPEN_STATES))
_SEARCH = (
    f'SELECT {_COLUMNS} FROM "{_TABLE}" '  # noqa: S608 - names from the model; values are parameters
    f'WHERE "{_TABLE}"."category_id" = %s AND "{_TABLE}"."state" IN ({_STATES}) '
    f'AND "{_TABLE}"."reported_at" >= %s AND "{_TABLE}"."reported_at" <= %s '
    f'AND "{_TABLE}"."latitude" BETWEEN %s AND %s AND "{_TABLE}"."longitude" BETWEEN %s AND %s'
)
