"""The checks that compare polygons: a grid inside its community, grids not overlapping each other.

Borders digitised by different people never match to the last digit, so both
checks allow a sliver: BORDER_TOLERANCE, a share of the grid's area (of the
smaller grid's area, for an overlap). 0.5 % of a typical 0.1 km² grid is
500 m², a strip about 1 m wide along a 400 m border; anything larger is a
drawing error the city must fix. Overlaps are found through an STRtree
(bounding boxes first, then exact intersection of the candidate pairs only), so
100,000 grids cost about n·log n, not n².
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from accounts.city_import.records import Problem, UnitRow

BORDER_TOLERANCE = 0.005


def _percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.2f}%" if whole else "100%"


def check_inside_communities(
    file: str, grids: Sequence[UnitRow], communities: dict[str, BaseGeometry], problems: list[Problem]
) -> None:
    """Each grid whose community has a boundary lies inside it, up to the tolerance."""
    pairs = [(g, communities[g.parent]) for g in grids if g.geometry is not None and g.parent in communities]
    if not pairs:
        return
    grid_geoms = np.array([g.geometry for g, _c in pairs], dtype=object)
    community_geoms = np.array([c for _g, c in pairs], dtype=object)
    outside = shapely.area(shapely.difference(grid_geoms, community_geoms))
    areas = shapely.area(grid_geoms)
    for (grid, _c), out, area in zip(pairs, outside, areas, strict=True):
        if out > BORDER_TOLERANCE * area:
            problems.append(
                Problem(
                    file,
                    grid.where,
                    "geometry",
                    f"grid {grid.code} lies outside its community {grid.parent} "
                    f"({_percent(out, area)} of its area; up to {BORDER_TOLERANCE:.1%} is allowed)",
                )
            )


def check_overlaps(
    file: str, grids: Sequence[UnitRow], others: Sequence[tuple[str, BaseGeometry]], problems: list[Problem]
) -> None:
    """No two grids (the file's, and the database's grids the file does not replace) share more than a sliver."""
    mine = [g for g in grids if g.geometry is not None]
    codes = [g.code for g in mine] + [code for code, _g in others]
    geoms = np.array([g.geometry for g in mine] + [geom for _c, geom in others], dtype=object)
    if len(geoms) < 2:
        return
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = (left < right) & (left < len(mine))  # each pair once, at least one grid from the file
    left, right = left[keep], right[keep]
    if not len(left):
        return
    shared = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    areas = shapely.area(geoms)
    smaller = np.minimum(areas[left], areas[right])
    for i, j, area, small in zip(left, right, shared, smaller, strict=True):
        if area > BORDER_TOLERANCE * small:
            other = mine[j].where if j < len(mine) else "in the database"
            problems.append(
                Problem(
                    file,
                    mine[i].where,
                    "geometry",
                    f"grid {codes[i]} overlaps grid {codes[j]} ({other}) by {_percent(area, small)} "
                    f"of the smaller one; up to {BORDER_TOLERANCE:.1%} is allowed",
                )
            )
