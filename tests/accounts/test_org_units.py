import pytest
from django.core.exceptions import ValidationError
from shapely.geometry import shape

from accounts.models import Department, OrgUnit, Tier
from fixtures.demo_city import load_demo_city

pytestmark = pytest.mark.django_db


def test_demo_city_has_the_shape_of_a_real_one():
    assert OrgUnit.objects.filter(tier=Tier.CITY).count() == 1
    assert OrgUnit.objects.filter(tier=Tier.DISTRICT).count() >= 3
    for district in OrgUnit.objects.filter(tier=Tier.DISTRICT):
        assert district.children.count() >= 2
        for street in district.children.all():
            assert street.children.count() == 2
            for community in street.children.all():
                assert community.children.count() == 3


def test_codes_follow_administrative_division_lengths():
    lengths = {unit.tier: set() for unit in OrgUnit.objects.all()}
    for unit in OrgUnit.objects.all():
        lengths[unit.tier].add(len(unit.code))
        assert unit.code.startswith(unit.parent.code if unit.parent and unit.tier > Tier.DISTRICT else "")
    assert lengths == {Tier.CITY: {6}, Tier.DISTRICT: {6}, Tier.STREET: {9}, Tier.COMMUNITY: {12}, Tier.GRID: {14}}


def test_grids_tile_their_community_without_overlap():
    for community in OrgUnit.objects.filter(tier=Tier.COMMUNITY):
        grids = [shape(g.boundary) for g in community.children.all()]
        area = shape(community.boundary).area
        assert sum(g.area for g in grids) == pytest.approx(area, rel=1e-9)
        for i, a in enumerate(grids):
            assert shape(community.boundary).covers(a)
            for b in grids[i + 1 :]:
                assert a.intersection(b).area == pytest.approx(0, abs=1e-15)


def test_district_subtree_is_one_query(django_assert_num_queries):
    district = OrgUnit.objects.get(code="990102")
    with django_assert_num_queries(1):
        inside = list(district.descendants())
    expected_codes = {
        u.code
        for u in OrgUnit.objects.exclude(pk=district.pk)
        if u.code.startswith("990102") and u.tier > Tier.DISTRICT
    }
    assert {u.code for u in inside} == expected_codes
    assert {u.tier for u in inside} == {Tier.STREET, Tier.COMMUNITY, Tier.GRID}
    assert len(inside) == 2 + 4 + 12


def test_ancestors_run_from_the_city_down():
    grid = OrgUnit.objects.get(code="99010200100101")
    assert [u.tier for u in grid.ancestors()] == [1, 2, 3, 4, 5]
    assert [u.code for u in grid.ancestors(include_self=False)][-1] == "990102001001"


def test_moving_a_unit_rewrites_its_subtree_paths():
    street = OrgUnit.objects.get(code="990102001")
    other_district = OrgUnit.objects.get(code="990103")
    street.parent = other_district
    street.save()
    grid = OrgUnit.objects.get(code="99010200100101")
    assert grid.path == "990100/990103/990102001/990102001001/99010200100101/"
    assert OrgUnit.objects.get(code="990103").descendants().filter(code=grid.code).exists()
    assert not OrgUnit.objects.get(code="990102").descendants().filter(code=grid.code).exists()


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"code": "12345", "tier": Tier.DISTRICT, "parent_code": "990100"}, "code"),
        ({"code": "99010200A", "tier": Tier.STREET, "parent_code": "990102"}, "code"),
        ({"code": "990102009", "tier": Tier.STREET, "parent_code": "990100"}, "parent"),
        ({"code": "99010200100109", "tier": Tier.GRID, "parent_code": "990102001001", "boundary": None}, "boundary"),
        (
            {
                "code": "99010200100109",
                "tier": Tier.GRID,
                "parent_code": "990102001001",
                "boundary": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
            },
            "boundary",
        ),
    ],
)
def test_invalid_units_are_refused_beside_the_field(fields, error_field):
    parent = OrgUnit.objects.get(code=fields.pop("parent_code"))
    unit = OrgUnit(name="x", parent=parent, **fields)
    with pytest.raises(ValidationError) as excinfo:
        unit.full_clean()
    assert error_field in excinfo.value.message_dict


def test_seeding_again_duplicates_nothing():
    before = (OrgUnit.objects.count(), Department.objects.count())
    load_demo_city()
    load_demo_city()
    assert (OrgUnit.objects.count(), Department.objects.count()) == before


def test_departments_sit_where_a_real_city_has_them():
    types_at = {}
    for dept in Department.objects.select_related("type", "org_unit"):
        types_at.setdefault(dept.org_unit.tier, set()).add(dept.type.code)
    all_types = {"chengguan", "huanwei", "shuiwu", "yuanlin", "shizheng", "zhujian", "gongan", "yingji"}
    assert types_at[Tier.CITY] == all_types
    assert types_at[Tier.DISTRICT] == all_types
    assert types_at[Tier.STREET] == {"chengguan", "huanwei", "gongan", "zhujian"}
    assert Tier.COMMUNITY not in types_at
    # One street without a sanitation station: routing falls back to its district.
    assert not Department.objects.filter(org_unit__code="990104002", type__code="huanwei").exists()
