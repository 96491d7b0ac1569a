"""`import_city`: the sample city imports, again without duplicates; every broken variant is refused whole."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from shapely.geometry import shape

from accounts.models import Department, Membership, OrgUnit, OrgUnitUserObjectPermission, Tier, User
from tests.accounts.city_files import (
    PREFIX,
    city_files,
    example_files,
    feature,
    run,
    run_failing,
    snapshot,
)

pytestmark = pytest.mark.django_db


def imported_units() -> dict[str, OrgUnit]:
    return {u.code: u for u in OrgUnit.objects.filter(code__startswith=PREFIX)}


def test_the_sample_city_imports_beside_the_demo_city():
    demo_before = sorted(OrgUnit.objects.exclude(code__startswith=PREFIX).values_list("code", "path"))
    out, _err = run(example_files())
    assert "org units: 16 were created, 0 were updated" in out
    assert "departments: 26 were created" in out
    assert "users: 20 were created" in out
    assert "changepassword" in out
    units = imported_units()
    assert len(units) == 16
    tiers = {code: u.tier for code, u in units.items()}
    assert tiers["880100"] == Tier.CITY and tiers["880102"] == Tier.DISTRICT
    assert tiers["880103001"] == Tier.STREET and tiers["880102001001"] == Tier.COMMUNITY
    assert tiers["88010200100102"] == Tier.GRID
    # The materialized path is computed from the parents' and serves within().
    grid = units["88010200100102"]
    assert grid.path == "880100/880102/880102001/880102001001/88010200100102/"
    assert grid.boundary["type"] == "MultiPolygon" and len(grid.boundary["coordinates"]) == 2
    assert set(OrgUnit.objects.within(units["880102"]).values_list("code", flat=True)) == {
        c for c in units if c.startswith("880102")
    }
    assert sorted(OrgUnit.objects.exclude(code__startswith=PREFIX).values_list("code", "path")) == demo_before
    # Departments: a type named by its Chinese name resolves to its code.
    assert Department.objects.get(code="880102-huanwei").type.code == "huanwei"
    assert not Department.objects.filter(org_unit__code="880102002", type__code="huanwei").exists()


def test_new_users_cannot_sign_in_until_given_a_password_and_hold_their_grants():
    run(example_files())
    user = User.objects.get(username="gw_qc_xiqiao")
    assert user.display_name == "西桥社区网格员" and user.phone == "13900000003"
    assert not user.has_usable_password()
    grants = set(
        OrgUnitUserObjectPermission.objects.filter(user=user).values_list(
            "content_object__code", "permission__codename"
        )
    )
    assert ("880102002001", "report_event") in grants
    handler = User.objects.get(username="hd_qc_dongcheng_huanwei")
    assert handler.memberships.get().department.code == "880102-huanwei"
    assert handler.has_perm("accounts.handle_event", Department.objects.get(code="880102-huanwei"))


def test_a_second_run_updates_and_never_duplicates(tmp_path):
    run(example_files())
    before = snapshot()
    out, _err = run(example_files())
    assert "org units: 0 were created, 16 were updated" in out
    assert "memberships: 0 were created, 20 were updated" in out
    assert snapshot() == before

    def rename(data):
        feature(data, "88010200100101")["properties"]["name"] = "东桥社区一号网格"

    def rephone(rows):
        next(r for r in rows if r["username"] == "gw_qc_xiqiao")["phone"] = "13911112222"

    out, _err = run(city_files(tmp_path, edit_units=rename, edit_people=rephone))
    assert "org units: 0 were created, 16 were updated" in out
    assert OrgUnit.objects.get(code="88010200100101").name == "东桥社区一号网格"
    assert User.objects.get(username="gw_qc_xiqiao").phone == "13911112222"
    assert OrgUnit.objects.filter(code__startswith=PREFIX).count() == 16
    assert User.objects.filter(username__contains="_qc_").count() == 20
    assert Membership.objects.filter(user__username__contains="_qc_").count() == 20


def test_an_existing_user_keeps_their_password():
    run(example_files())
    user = User.objects.get(username="op_qc_qiaoxi")
    user.set_password("a-real-password-2026")
    user.save()
    run(example_files())
    assert User.objects.get(username="op_qc_qiaoxi").check_password("a-real-password-2026")


def test_dry_run_reports_and_writes_nothing():
    before = snapshot()
    out, _err = run(example_files(), "--dry-run")
    assert "org units: 16 would be created, 0 would be updated" in out
    assert "users: 20 would be created" in out
    assert "Dry run: nothing was written." in out
    assert snapshot() == before


def test_units_first_people_later():
    files = example_files()
    run({"units": files["units"]})
    assert len(imported_units()) == 16 and not Department.objects.filter(code__startswith=PREFIX).exists()
    run({"departments": files["departments"]})
    run({"people": files["people"]})
    assert User.objects.filter(username__contains="_qc_").count() == 20


def test_people_naming_a_department_neither_in_the_files_nor_stored_are_refused():
    before = snapshot()
    lines = run_failing({"people": example_files()["people"]})
    assert "PEOPLE.csv: row 2: unit: unknown org unit 880100" in lines
    assert snapshot() == before


def test_no_file_is_an_error():
    with pytest.raises(CommandError, match="at least one"):
        call_command("import_city")


def test_a_missing_file_is_named():
    with pytest.raises(CommandError, match=r"nowhere\.geojson: cannot read"):
        call_command("import_city", "--units=/nowhere.geojson")


# --- broken variants: each refused with its row-level message, nothing written


def refused(tmp_path, **edits) -> list[str]:
    before = snapshot()
    lines = run_failing(city_files(tmp_path, **edits))
    assert snapshot() == before
    return lines


def test_unknown_parent(tmp_path):
    def edit(data):
        feature(data, "880102002")["properties"]["parent"] = "880109"

    assert refused(tmp_path, edit_units=edit) == ["UNITS.geojson: feature 5: parent: unknown parent 880109"]


def test_a_parent_of_the_wrong_tier(tmp_path):
    def edit(data):
        feature(data, "880102002001")["properties"]["parent"] = "880102"

    lines = refused(tmp_path, edit_units=edit)
    assert lines == [
        "UNITS.geojson: feature 8: parent: the parent of a community must be a street; 880102 is a district"
    ]


def test_duplicate_code(tmp_path):
    def edit(data):
        copy = dict(feature(data, "880103001"))
        copy["properties"] = {**copy["properties"], "name": "望山街道(重复)"}
        data["features"].append(copy)

    lines = refused(tmp_path, edit_units=edit)
    assert lines == ["UNITS.geojson: feature 17: code: duplicate code 880103001 (also feature 6)"]


def test_duplicate_department_code(tmp_path):
    def edit(rows):
        rows.append({**rows[3], "name": "另一个"})

    lines = refused(tmp_path, edit_departments=edit)
    assert lines == ["DEPARTMENTS.csv: row 28: code: duplicate code 880102-chengguan (also row 5)"]


def test_self_intersecting_polygon(tmp_path):
    def edit(data):
        feature(data, "88010300100102")["geometry"] = {
            "type": "Polygon",
            "coordinates": [[[121.055, 31.01], [121.06, 31.02], [121.06, 31.01], [121.055, 31.02], [121.055, 31.01]]],
        }

    [line] = refused(tmp_path, edit_units=edit)
    assert line.startswith("UNITS.geojson: feature 15: geometry: invalid polygon: Self-intersection")


def test_a_grid_without_geometry(tmp_path):
    def edit(data):
        feature(data, "88010300100103")["geometry"] = None

    [line] = refused(tmp_path, edit_units=edit)
    assert line == "UNITS.geojson: feature 16: geometry: a grid needs a Polygon or MultiPolygon"


def test_a_grid_outside_its_community(tmp_path):
    def edit(data):
        grid = feature(data, "88010300100103")
        # Pushed 0.01° east of the city: most of it is outside 望山社区.
        grid["geometry"]["coordinates"] = [[[x + 0.01, y] for x, y in ring] for ring in grid["geometry"]["coordinates"]]

    [line] = refused(tmp_path, edit_units=edit)
    assert line.startswith(
        "UNITS.geojson: feature 16: geometry: grid 88010300100103 lies outside its community 880103001001 ("
    )


def test_a_sliver_over_the_community_border_is_tolerated(tmp_path):
    def edit(data):
        ring = feature(data, "88010300100103")["geometry"]["coordinates"][0]
        # The east edge (x = 121.08) drawn 0.00001° (about 1 m) too far east.
        for point in ring:
            if point[0] == 121.08:
                point[0] = 121.08001

    out, _err = run(city_files(tmp_path, edit_units=edit))
    assert "City imported." in out


def test_overlapping_grids(tmp_path):
    def edit(data):
        # Grid 2 of 望山社区 also covers all of grid 1's area.
        one = shape(feature(data, "88010300100101")["geometry"])
        two = shape(feature(data, "88010300100102")["geometry"])
        feature(data, "88010300100102")["geometry"] = one.union(two).__geo_interface__

    [line] = refused(tmp_path, edit_units=edit)
    assert line.startswith("UNITS.geojson: feature 14: geometry: grid 88010300100101 overlaps grid 88010300100102")


def test_a_grid_overlapping_a_stored_grid(tmp_path):
    demo_grid = OrgUnit.objects.get(code="99010200100101")

    def edit(data):
        feature(data, "88010300100101")["geometry"] = demo_grid.boundary
        feature(data, "880103001001")["geometry"] = None  # so only the overlap is wrong

    [line] = refused(tmp_path, edit_units=edit)
    assert line.startswith(
        "UNITS.geojson: feature 14: geometry: grid 88010300100101 overlaps grid 99010200100101 (in the database)"
    )


def test_unknown_department_type(tmp_path):
    def edit(rows):
        rows[0]["type"] = "消防"

    [line] = refused(tmp_path, edit_departments=edit)
    assert line.startswith("DEPARTMENTS.csv: row 2: type: unknown department type '消防'")


def test_unknown_unit_of_a_department(tmp_path):
    def edit(rows):
        rows[1]["unit"] = "880199"

    assert refused(tmp_path, edit_departments=edit) == ["DEPARTMENTS.csv: row 3: unit: unknown org unit 880199"]


def test_unknown_department_of_a_handler(tmp_path):
    def edit(rows):
        next(r for r in rows if r["role"] == "handler")["department"] = "880102001-shuiwu"

    lines = refused(tmp_path, edit_people=edit)
    assert lines == ["PEOPLE.csv: row 15: department: unknown department 880102001-shuiwu"]


def test_unknown_role(tmp_path):
    def edit(rows):
        rows[0]["role"] = "mayor"

    [line] = refused(tmp_path, edit_people=edit)
    assert line.startswith("PEOPLE.csv: row 2: role: unknown role 'mayor'")


def test_unknown_unit_of_a_person(tmp_path):
    def edit(rows):
        rows[9]["unit"] = "88010200100199"

    assert refused(tmp_path, edit_people=edit) == ["PEOPLE.csv: row 11: unit: unknown org unit 88010200100199"]


def test_missing_required_fields(tmp_path):
    def edit_units(data):
        del feature(data, "880103")["properties"]["name"]

    def edit_people(rows):
        rows[2]["full_name"] = ""

    lines = refused(tmp_path, edit_units=edit_units, edit_people=edit_people)
    assert lines == ["UNITS.geojson: feature 3: name: required", "PEOPLE.csv: row 4: full_name: required"]


def test_a_missing_column(tmp_path):
    def edit(rows):
        for row in rows:
            del row["type"]

    assert refused(tmp_path, edit_departments=edit) == [
        "DEPARTMENTS.csv: row 1: header: missing column(s) type; needs code,name,type,unit"
    ]


def test_every_problem_in_every_file_is_printed(tmp_path):
    def edit_units(data):
        feature(data, "880102002")["properties"]["parent"] = "880109"
        feature(data, "88010300100103")["geometry"] = None

    def edit_departments(rows):
        rows[0]["type"] = "消防"

    def edit_people(rows):
        rows[0]["role"] = "mayor"
        rows[1]["unit"] = "880177"

    lines = refused(tmp_path, edit_units=edit_units, edit_departments=edit_departments, edit_people=edit_people)
    assert [line.split(": ")[:3] for line in lines] == [
        ["UNITS.geojson", "feature 5", "parent"],
        ["UNITS.geojson", "feature 16", "geometry"],
        ["DEPARTMENTS.csv", "row 2", "type"],
        ["PEOPLE.csv", "row 2", "role"],
        ["PEOPLE.csv", "row 3", "unit"],
    ]


def test_tier_from_the_optional_property_must_match_the_code(tmp_path):
    def edit(data):
        feature(data, "880103001")["properties"]["tier"] = "community"

    lines = refused(tmp_path, edit_units=edit)
    assert "UNITS.geojson: feature 6: code: a community code has 12 digits" in lines


def test_the_bulk_grants_are_exactly_what_a_membership_sync_gives():
    from accounts.models import DepartmentUserObjectPermission
    from accounts.services import sync_user_permissions

    run(example_files())

    def grants():
        return sorted(
            OrgUnitUserObjectPermission.objects.filter(user__username__contains="_qc_").values_list(
                "user__username", "permission__codename", "content_object__code"
            )
        ) + sorted(
            DepartmentUserObjectPermission.objects.filter(user__username__contains="_qc_").values_list(
                "user__username", "permission__codename", "content_object__code"
            )
        )

    imported = grants()
    assert len(imported) > 40
    for user in User.objects.filter(username__contains="_qc_"):
        sync_user_permissions(user)
    assert grants() == imported


def test_a_multipolygon_grid_passes_the_models_own_check_and_a_line_does_not():
    from django.core.exceptions import ValidationError

    run(example_files())
    grid = OrgUnit.objects.get(code="88010200100102")
    grid.full_clean()  # the admin's form runs the same validate_polygon
    assert len(shape(grid.boundary).geoms) == 2
    grid.boundary = {"type": "LineString", "coordinates": [[121.0, 31.0], [121.01, 31.01]]}
    with pytest.raises(ValidationError, match="Polygon"):
        grid.full_clean()


def test_a_unit_of_unknown_tier_is_reported_once_not_again_for_its_children(tmp_path):
    def edit(data):
        feature(data, "880103001001")["properties"]["tier"] = "village"

    lines = refused(tmp_path, edit_units=edit)
    assert lines == ["UNITS.geojson: feature 9: tier: 'village': one of city, district, street, community, grid"]


def test_headers_and_roles_are_read_regardless_of_case(tmp_path):
    files = city_files(tmp_path, edit_people=lambda rows: rows[0].update(role="Operator"))
    people = tmp_path / "PEOPLE.csv"
    text = people.read_text(encoding="utf-8")
    people.write_text(text.replace("username,full_name", "Username,Full_Name", 1), encoding="utf-8")
    out, _err = run(files)
    assert "City imported." in out
    assert User.objects.get(username="op_qc_city").memberships.get().role == "operator"
