"""What the Leaflet map of a page draws (static/js/map.js): the base-map settings, the city's own
polygons with their names, the event's point, and events coloured by traffic light.

Everything here is read through the user's scope: a unit or an event the user may not see is never
in the page's data.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import F, QuerySet
from django.http import HttpResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.geometry import outer_rings
from accounts.models import OrgUnit, Tier
from accounts.selectors import jurisdiction_q
from incidents.models import OPEN_STATES

MAX_UNITS = 600
MAX_EVENTS = 500


def _rings(unit: OrgUnit) -> list[list[list[float]]]:
    """The outer ring of each part (a MultiPolygon grid is drawn part by part), as Leaflet's [lat, lon]."""
    if not unit.boundary:
        return []
    # Leaflet wants [lat, lon]; GeoJSON stores [lon, lat].
    return [[[round(y, 7), round(x, 7)] for x, y in ring] for ring in outer_rings(unit.boundary)]


def scoped_units(user, codename: str) -> list[OrgUnit]:
    """Streets, communities and grids inside the user's `codename` jurisdiction, the unit a grant
    sits on included (a community worker sees their community's outline), capped at MAX_UNITS."""
    q = jurisdiction_q(user, codename)
    # Higher tiers first: past the cap a city-wide user still gets every street and community.
    units = OrgUnit.objects.filter(q, tier__gte=Tier.STREET, boundary__isnull=False, is_active=True)
    return list(units.order_by("tier", "path")[:MAX_UNITS])


def event_points(events: QuerySet) -> list[dict]:
    """Open events of an already scoped queryset, capped, for the map's coloured dots."""
    # The most pressing first when the cap cuts: nearest deadline, then the oldest.
    rows = (
        events.filter(state__in=OPEN_STATES)
        .select_related(None)
        .order_by(F("due_at").asc(nulls_last=True), "reported_at")[:MAX_EVENTS]
    )
    return [
        {
            "lat": e.latitude,
            "lon": e.longitude,
            "light": e.light,
            "code": e.code,
            "title": e.title,
            "state": e.get_state_display(),
            "url": reverse("event-detail", args=[e.pk]),
        }
        for e in rows.only("pk", "latitude", "longitude", "light", "code", "title", "state")
    ]


def map_data(
    units: list[OrgUnit],
    *,
    point: tuple[float, float] | None = None,
    events: list[dict] | None = None,
    editable: bool = False,
    highlight: int | None = None,
) -> dict | None:
    """The JSON the map script reads (json_script), or None when there is nothing to draw."""
    shapes = []
    names = {unit.pk: unit.name for unit in units}
    for unit in units:
        for ring in _rings(unit):
            # "南湖一村社区第1网格" inside 南湖一村社区's outline reads "第1网格".
            label = unit.name.removeprefix(names.get(unit.parent_id, "")) or unit.name
            shapes.append(
                {
                    "name": unit.name,
                    "label": label,
                    "code": unit.code,
                    "tier": unit.tier,
                    "ring": ring,
                    "hl": unit.pk == highlight,
                }
            )
    if not shapes and point is None and not events:
        return None
    tiles = None
    if settings.MAP_TILE_URL:
        tiles = {
            "url": settings.MAP_TILE_URL,
            "attribution": settings.MAP_TILE_ATTRIBUTION,
            "subdomains": settings.MAP_TILE_SUBDOMAINS or "abc",
        }
    return {
        "tiles": tiles,
        "crs": "gcj02" if settings.MAP_TILE_CRS.lower() == "gcj02" else "wgs84",
        "units": shapes,
        "point": list(point) if point else None,
        "events": events or [],
        "editable": editable,
        # Leaflet guesses its marker images from its stylesheet's URL, which collectstatic's hashed
        # names defeat in production: name them (as stored) instead.
        "icons": {
            "icon": static("vendor/leaflet/images/marker-icon.png"),
            "icon2x": static("vendor/leaflet/images/marker-icon-2x.png"),
            "shadow": static("vendor/leaflet/images/marker-shadow.png"),
        },
        "text": {
            "green": _("on time"),
            "yellow": _("about to be overdue"),
            "red": _("overdue"),
            "open": _("open the event"),
            "here": _("the event's location"),
        },
    }


def tile_source() -> str:
    """The CSP source of the tile server: its origin, a `{s}` subdomain label as a wildcard."""
    parts = urlsplit(settings.MAP_TILE_URL)
    if not parts.scheme or not parts.netloc:
        return ""
    host = ".".join("*" if "{" in label else label for label in parts.netloc.split("."))
    return f"{parts.scheme}://{host}"


def allow_tiles(response: HttpResponse) -> HttpResponse:
    """Let the strict CSP load the configured tiles (img-src); nothing changes without a tile URL."""
    source = tile_source() if settings.MAP_TILE_URL else ""
    if source:
        extra = dict(getattr(response, "csp_extra", None) or {})
        extra["img-src"] = f"{extra['img-src']} {source}" if "img-src" in extra else source
        response.csp_extra = extra  # type: ignore[attr-defined]
    return response
