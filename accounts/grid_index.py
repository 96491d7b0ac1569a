"""Point-in-polygon grid lookup through a spatial index.

An STRtree over the grids' prepared polygons answers "which grid holds this
point" by checking only the few grids whose bounding boxes contain it. The
index lives in each process and is rebuilt when any grid changes: saving or
deleting a grid bumps a generation counter in the shared cache, and every
lookup compares its copy's generation with it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from shapely import STRtree
from shapely.geometry import Point, shape
from shapely.prepared import prep

from .models import OrgUnit, Tier

GENERATION_KEY = "citygov:grid-index-generation"


@dataclass
class _Index:
    generation: int
    tree: STRtree | None
    prepared: list
    grid_ids: list[int]


_lock = threading.Lock()
_index: _Index | None = None


def _current_generation() -> int:
    return cache.get_or_set(GENERATION_KEY, 1, timeout=None)


def _build(generation: int) -> _Index:
    rows = list(OrgUnit.objects.filter(tier=Tier.GRID, is_active=True).values_list("id", "boundary").order_by("code"))
    polygons = [shape(boundary) for _id, boundary in rows]
    return _Index(
        generation=generation,
        tree=STRtree(polygons) if polygons else None,
        prepared=[prep(p) for p in polygons],
        grid_ids=[grid_id for grid_id, _b in rows],
    )


def _get_index() -> _Index:
    global _index
    generation = _current_generation()
    index = _index
    if index is None or index.generation != generation:
        with _lock:
            if _index is None or _index.generation != generation:
                _index = _build(generation)
            index = _index
    return index


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
    grid_id = locate_grid_id(latitude, longitude)
    return OrgUnit.objects.get(pk=grid_id) if grid_id is not None else None


def invalidate() -> None:
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # key missing: start a fresh generation
        cache.set(GENERATION_KEY, 2, timeout=None)


@receiver(post_save, sender=OrgUnit)
@receiver(post_delete, sender=OrgUnit)
def _grid_changed(sender, instance: OrgUnit, **kwargs) -> None:
    if instance.tier == Tier.GRID:
        invalidate()
