"""A map drawn from our own grid polygons as SVG: no tiles, works offline."""

from __future__ import annotations

import math
from dataclasses import dataclass

from accounts.geometry import outer_rings
from accounts.models import OrgUnit

WIDTH = 1000


@dataclass
class SvgMap:
    west: float
    south: float
    east: float
    north: float
    height: int
    polygons: list[dict]
    point: tuple[float, float] | None = None

    @property
    def width(self) -> int:
        return WIDTH


def _project(lon: float, lat: float, west: float, north: float, sx: float, sy: float) -> tuple[float, float]:
    return round((lon - west) * sx, 1), round((north - lat) * sy, 1)


def grid_map(
    grids: list[OrgUnit], point: tuple[float, float] | None = None, highlight: int | None = None
) -> SvgMap | None:
    """Project grids (and an optional lat/lon point) onto an SVG canvas 1000 units wide.

    Equirectangular, scaled by cos(latitude) so a city-sized area keeps its shape.
    A MultiPolygon grid is drawn as one polygon per part, each labelled.
    """
    rings = [(g, ring) for g in grids if g.boundary for ring in outer_rings(g.boundary)]
    if not rings:
        return None
    lons = [x for _g, ring in rings for x, _y in ring]
    lats = [y for _g, ring in rings for _x, y in ring]
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)
    k = math.cos(math.radians((south + north) / 2))
    sx = WIDTH / max(east - west, 1e-9)
    sy = sx / max(k, 0.01)
    height = max(int((north - south) * sy), 1)
    polygons = []
    for grid, ring in rings:
        pts = " ".join(f"{x},{y}" for x, y in (_project(lon, lat, west, north, sx, sy) for lon, lat in ring))
        cx = sum(lon for lon, _ in ring[:-1]) / max(len(ring) - 1, 1)
        cy = sum(lat for _, lat in ring[:-1]) / max(len(ring) - 1, 1)
        lx, ly = _project(cx, cy, west, north, sx, sy)
        polygons.append(
            {"code": grid.code, "name": grid.name, "points": pts, "lx": lx, "ly": ly, "highlight": grid.pk == highlight}
        )
    projected = None
    if point is not None:
        projected = _project(point[1], point[0], west, north, sx, sy)
    return SvgMap(west, south, east, north, height, polygons, projected)
