"""Point-in-polygon grid lookup through a spatial index, with the grid rows and the units above.

An STRtree over the grids' prepared polygons answers "which grid holds this
point" by checking only the few grids whose bounding boxes contain it. The
index lives in each process (core.process_cache) and is rebuilt when any
grid is saved or deleted, or after a bulk import (accounts.signals). A grid
may be a Polygon or a MultiPolygon (several parts): shapely's `shape` reads
both, and the tree indexes the whole MultiPolygon, so a point in any part finds it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from shapely import STRtree
from shapely.geometry import Point, shape
from shapely.prepared import prep

from accounts.models import OrgUnit, Tier
from accounts.signals import org_units_bulk_changed
from core.process_cache import ProcessCache


@dataclass
class _Index:
    tree: STRtree | None
    prepared: list
    grid_ids: list[int]
    # The rows intake needs for every report, so it reads none of them: the grid itself and the
    # units above it (the owning street, the city code). Shared by every request: read only.
    grids: dict[int, OrgUnit]
    upper: dict[str, OrgUnit]


def _build() -> _Index:
    grids = list(OrgUnit.objects.filter(tier=Tier.GRID, is_active=True).order_by("code"))
    polygons = [shape(grid.boundary) for grid in grids]
    return _Index(
        tree=STRtree(polygons) if polygons else None,
        prepared=[prep(p) for p in polygons],
        grid_ids=[grid.pk for grid in grids],
        grids={grid.pk: grid for grid in grids},
        upper={unit.code: unit for unit in OrgUnit.objects.filter(tier__lte=Tier.STREET).defer("boundary")},
    )


_index: ProcessCache[_Index] = ProcessCache("grid-index", _build)


def _get_index() -> _Index:
    return _index.get()


def locate_grid_id(latitude: float, longitude: float) -> int | None:
    """The id of the grid covering the point, or None when it lies outside every grid.

    A point on a shared edge belongs to the grid with the lowest code, so the
    answer never depends on index order.
    """
    index = _get_index()
    if index.tree is None:
        return None
    point = Point(longitude, latitude)
    candidates = sorted(int(i) for i in index.tree.query(point))
    for i in candidates:
        if index.prepared[i].covers(point):
            return index.grid_ids[i]
    return None


def locate_grid(latitude: float, longitude: float) -> OrgUnit | None:
    """The grid covering the point (the process copy's row: read it, never change it)."""
    grid_id = locate_grid_id(latitude, longitude)
    return _get_index().grids.get(grid_id) if grid_id is not None else None


def unit_above(code: str) -> OrgUnit:
    """A city, district or street by code, from the process copy (e.g. the street owning a grid)."""
    found = _get_index().upper.get(code)
    if found is None:  # created since the copy was built and not yet seen: read it
        return OrgUnit.objects.get(code=code)
    return found


def invalidate(**_kwargs: object) -> None:
    _index.invalidate()


org_units_bulk_changed.connect(invalidate, dispatch_uid="grid-index-bulk")


@receiver(post_save, sender=OrgUnit)
@receiver(post_delete, sender=OrgUnit)
def _grid_changed(sender, instance: OrgUnit, **kwargs) -> None:
    invalidate()  # a grid's polygon or path, or a unit above it (the copy holds both)
