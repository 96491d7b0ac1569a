"""address_string → a point, from the city's own org-unit boundaries (no external geocoder)."""

from __future__ import annotations

from shapely.geometry import shape

from accounts.models import OrgUnit


def locate_address(address: str) -> tuple[float, float] | None:
    """A coarse geocoder from our own org units: the most specific unit named in the address.

    "南湖街道南湖一村社区第2网格旁" → the centre of that grid; a street name alone → the centre of
    the street. No external service: city networks are often offline.
    """
    address = address.strip()[:200]
    if not address:
        return None
    named = [
        u
        for u in OrgUnit.objects.filter(is_active=True, boundary__isnull=False).only("name", "tier", "boundary")
        if u.name in address
    ]
    if not named:
        return None
    best = max(named, key=lambda u: (u.tier, len(u.name)))
    centre = shape(best.boundary).representative_point()
    return centre.y, centre.x
