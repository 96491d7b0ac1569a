"""An imported city runs: its grid workers' events land in the right grid (MultiPolygon parts too) and reach
its own departments by type, falling back to the district where a street lacks one."""

from __future__ import annotations

import pytest

from accounts import grid_index
from accounts.models import OrgUnit, User
from fixtures.reference import load_reference
from incidents.selectors import events_for_user
from operations import services
from tests.accounts.city_files import example_files, run
from tests.factories import file_event

pytestmark = pytest.mark.django_db

# 东桥社区第2网格 is a MultiPolygon: the west bank (121.000-~121.013) and the east bank (~121.027-121.040).
WEST_BANK = (31.01, 121.005)
EAST_BANK = (31.01, 121.035)
MIDDLE = (31.01, 121.02)  # 东桥社区第1网格, between the two banks


@pytest.fixture
def imported_city():
    run(example_files())
    load_reference()  # after the import, as docs/DEPLOY.md orders it; idempotent on the test database


def file_as(username: str, point: tuple[float, float], category: str = "E0101"):
    return services.event_file(
        actor=User.objects.get(username=username),
        title="暴露垃圾",
        category=category,
        latitude=point[0],
        longitude=point[1],
    ).event


def test_the_grid_index_finds_every_part_of_a_multipolygon_grid(imported_city):
    two = OrgUnit.objects.get(code="88010200100102").pk
    assert grid_index.locate_grid_id(*WEST_BANK) == two
    assert grid_index.locate_grid_id(*EAST_BANK) == two
    assert grid_index.locate_grid_id(*MIDDLE) == OrgUnit.objects.get(code="88010200100101").pk


def test_an_event_filed_in_the_second_part_of_a_multipolygon_lands_in_that_grid(imported_city):
    event = file_as("gw_qc_dongqiao_02", EAST_BANK)
    assert event.grid.code == "88010200100102"
    assert event.area_path == "880100/880102/880102001/880102001001/88010200100102/"


def test_events_reach_the_streets_own_department_by_type(imported_city):
    event = file_as("gw_qc_dongqiao_01", MIDDLE)
    assert event.state == "dispatched"
    assert event.lead_department.code == "880102001-huanwei"  # 桥东街道环卫所


def test_a_street_without_a_department_of_the_type_falls_back_to_the_district(imported_city):
    # 桥西街道 has a 城管中队 but no 环卫所: sanitation goes to 东城区环境卫生管理所.
    event = file_as("gw_qc_xiqiao", (31.03, 121.01))
    assert event.grid.code == "88010200200101"
    assert event.state == "dispatched"
    assert event.lead_department.code == "880102-huanwei"
    # The same street's own 城管 still gets street-order events (街面秩序 → 城管, from the street).
    order = file_as("gw_qc_xiqiao", (31.03, 121.03), category="E0501")
    assert order.lead_department.code == "880102002-chengguan"


def test_the_handler_of_the_fallback_department_sees_the_event(imported_city):
    event = file_as("gw_qc_xiqiao", (31.03, 121.01))
    handler = User.objects.get(username="hd_qc_dongcheng_huanwei")
    assert events_for_user(handler).filter(pk=event.pk).exists()
    street_handler = User.objects.get(username="hd_qc_qiaodong_huanwei")
    assert not events_for_user(street_handler).filter(pk=event.pk).exists()


def test_the_event_page_draws_both_parts_of_a_multipolygon_grid(imported_city, client):
    event = file_as("gw_qc_dongqiao_02", EAST_BANK)
    client.force_login(User.objects.get(username="op_qc_qiaodong"))
    response = client.get(f"/events/{event.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    # The Leaflet map's data (interfaces.web.maps.map_data): one outline per part, both highlighted.
    shapes = response.context["map"]["units"]
    assert [(s["code"], s["hl"]) for s in shapes] == [("88010200100102", True), ("88010200100102", True)]
    assert shapes[0]["ring"] != shapes[1]["ring"]


def test_an_operator_of_another_street_does_not_see_it(imported_city, client):
    event = file_as("gw_qc_dongqiao_02", EAST_BANK)
    client.force_login(User.objects.get(username="op_qc_qiaoxi"))
    assert client.get(f"/events/{event.pk}/").status_code == 404


def test_a_city_wide_operator_sees_only_their_own_city_once_a_second_one_is_imported(imported_city):
    """With one top unit a city-wide grant skips the path test (`jurisdiction_q`); a second top
    unit in the same deployment must bring it back, read fresh from the database with the grants."""
    assert OrgUnit.objects.filter(parent__isnull=True).count() == 2
    theirs = file_as("gw_qc_dongqiao_02", EAST_BANK)
    ours = file_event()  # a grid worker of the demo city
    visible = set(events_for_user(User.objects.get(username="op_city")).values_list("pk", flat=True))
    assert ours.pk in visible
    assert theirs.pk not in visible
