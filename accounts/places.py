"""The city's own gazetteer: unit names and standard addresses, searched within what the user may see.

Ranked the way a hotline operator types: an exact name first, then names that start with the
text, then names that contain it; shorter names before longer ones within each rank.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Length

from accounts.geometry import polygon_from_geojson
from accounts.models import OrgUnit, StandardAddress, Tier, User
from accounts.selectors import jurisdiction_q

LIMIT = 10


@dataclass(frozen=True)
class Place:
    kind: str  # "address" or "unit"
    name: str
    latitude: float
    longitude: float
    unit: str  # the grid (address) or the unit itself, for the operator to recognise
    rank: int


def _ranked(qs: QuerySet, field: str, text: str) -> QuerySet:
    return (
        qs.filter(**{f"{field}__icontains": text})
        .annotate(
            rank=Case(
                When(**{field: text}, then=Value(0)),
                When(**{f"{field}__startswith": text}, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            ),
            length=Length(field),
        )
        .order_by("rank", "length", field)
    )


def place_search(user: User, text: str, codename: str = "report_event", limit: int = LIMIT) -> list[Place]:
    """Standard addresses and units (street, community, grid) matching `text` inside the user's
    `codename` jurisdiction, best first; a unit's point is a point inside its boundary."""
    text = text.strip()
    if not text:
        return []
    addresses = _ranked(
        StandardAddress.objects.filter(jurisdiction_q(user, codename, path_field="grid__path")).select_related("grid"),
        "address",
        text,
    )[:limit]
    units = _ranked(
        OrgUnit.objects.filter(
            jurisdiction_q(user, codename), Q(boundary__isnull=False), tier__gte=Tier.STREET, is_active=True
        ),
        "name",
        text,
    )[:limit]
    found = [Place("address", a.address, a.latitude, a.longitude, a.grid.name, a.rank) for a in addresses]
    for unit in units:
        point = polygon_from_geojson(unit.boundary).representative_point()
        found.append(Place("unit", unit.name, round(point.y, 7), round(point.x, 7), unit.get_tier_display(), unit.rank))
    # Addresses before units of the same rank: a door plate is the more precise answer.
    found.sort(key=lambda p: (p.rank, p.kind != "address", len(p.name)))
    return found[:limit]
