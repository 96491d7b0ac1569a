"""Polygon validation for org-unit boundaries (GeoJSON Polygon or MultiPolygon, WGS84 lon/lat).

A grid may be in several parts (a MultiPolygon: a community split by a river,
an enclave); everything that reads boundaries goes through shapely's `shape`,
which takes both.
"""

from __future__ import annotations

import random
from typing import Any

from shapely.geometry import MultiPolygon, Point, Polygon, shape
from shapely.prepared import prep
from shapely.validation import explain_validity

BOUNDARY_TYPES = ("Polygon", "MultiPolygon")


def polygon_from_geojson(value: Any) -> Polygon | MultiPolygon:
    if not isinstance(value, dict) or value.get("type") not in BOUNDARY_TYPES:
        raise ValueError(
            'The boundary must be a GeoJSON object {"type": "Polygon" or "MultiPolygon", "coordinates": [...]}.'
        )
    try:
        geom = shape(value)
    except Exception as exc:  # shapely raises several types for malformed coordinates
        raise ValueError(f"The boundary coordinates are malformed: {exc}.") from None
    return geom


def validate_polygon(value: Any) -> Polygon | MultiPolygon:
    geom = polygon_from_geojson(value)
    if geom.is_empty or geom.area == 0:
        raise ValueError("The boundary polygon is empty.")
    if not geom.is_valid:
        raise ValueError(f"The boundary polygon is invalid: {explain_validity(geom)}.")
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ValueError("The boundary lies outside longitude -180..180 / latitude -90..90.")
    return geom


def rectangle(west: float, south: float, east: float, north: float) -> dict:
    """A GeoJSON rectangle, counter-clockwise as RFC 7946 asks."""
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [[[round(x, 7), round(y, 7)] for x, y in ring]]}


def outer_rings(value: dict) -> list[list[list[float]]]:
    """The outer ring of each part of a Polygon or MultiPolygon boundary (for drawing)."""
    if value.get("type") == "MultiPolygon":
        return [part[0] for part in value.get("coordinates") or [] if part]
    coordinates = value.get("coordinates") or []
    return [coordinates[0]] if coordinates else []


class PointPicker:
    """Random points inside a polygon (rejection sampling in its bounding box): generated events
    and benchmark reports lie inside their grids, where the duplicate search and maps meet them."""

    def __init__(self, boundary: dict) -> None:
        polygon = shape(boundary)
        self._prepared = prep(polygon)
        self._bounds = polygon.bounds
        self._fallback = polygon.representative_point()  # always inside, for very thin polygons

    def pick(self, rng: random.Random) -> tuple[float, float]:
        """(latitude, longitude) of a point inside the polygon."""
        west, south, east, north = self._bounds
        for _ in range(100):
            lon, lat = rng.uniform(west, east), rng.uniform(south, north)
            if self._prepared.contains(Point(lon, lat)):
                return lat, lon
        return self._fallback.y, self._fallback.x
