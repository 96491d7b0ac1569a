import pytest
from shapely.geometry import shape

from accounts import grid_index
from accounts.geometry import rectangle
from accounts.models import OrgUnit, Tier

pytestmark = pytest.mark.django_db


def test_every_grid_centre_resolves_to_its_grid():
    for grid in OrgUnit.objects.filter(tier=Tier.GRID):
        c = shape(grid.boundary).centroid
        assert grid_index.locate_grid_id(c.y, c.x) == grid.pk


def test_a_point_on_a_shared_edge_belongs_to_the_lower_code():
    a = OrgUnit.objects.get(code="99010200100101")
    b = OrgUnit.objects.get(code="99010200100102")
    edge = shape(a.boundary).intersection(shape(b.boundary))
    mid = edge.interpolate(0.5, normalized=True)
    assert grid_index.locate_grid_id(mid.y, mid.x) == a.pk


def test_outside_every_grid_is_none():
    assert grid_index.locate_grid_id(0.0, 0.0) is None


def test_the_index_is_rebuilt_when_a_grid_changes():
    grid = OrgUnit.objects.get(code="99010200100101")
    west, south, east, north = shape(grid.boundary).bounds
    outside = (south - 0.001, west + 0.001)  # just south of the city
    assert grid_index.locate_grid_id(*outside) is None
    grid.boundary = rectangle(west, south - 0.01, east, north)
    grid.save()
    assert grid_index.locate_grid_id(*outside) == grid.pk


def test_lookups_use_the_index_not_a_loop(monkeypatch):
    grid_index.locate_grid_id(30.01, 120.01)  # warm
    calls = []
    index = grid_index._get_index()
    original = index.prepared
    counting = [_Counting(p, calls) for p in original]
    monkeypatch.setattr(index, "prepared", counting)
    grid_index.locate_grid_id(30.01, 120.01)
    assert 1 <= len(calls) <= 4  # a handful of bounding-box candidates out of 36 grids


class _Counting:
    def __init__(self, prepared, calls):
        self.prepared, self.calls = prepared, calls

    def covers(self, point):
        self.calls.append(1)
        return self.prepared.covers(point)
