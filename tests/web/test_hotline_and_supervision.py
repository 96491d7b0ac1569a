"""The 12345 hotline mode of the intake form, and the supervisor's scoped list with its due filters."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from dispatch.models import RoutingRule
from incidents.models import Category, Event
from operations.sweep import sweep
from tests.factories import GRID, file_event, point_in

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
XILING_GRID = "99010300100101"


@pytest.fixture(autouse=True)
def manual_dispatch():
    RoutingRule.objects.update(is_active=False)


def test_hotline_mode_presets_the_source_and_puts_the_caller_first(login):
    op = login("op_nanhu")
    page = op.get("/report/hotline/", HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert page.context["form"]["source"].value() == "hotline_12345"
    assert html.index('name="reporter_name"') < html.index('name="category"') < html.index('name="description"')
    assert 'id="place-search"' in html
    lat, lon = point_in(GRID)
    response = op.post(
        "/report/hotline/",
        {
            "reporter_name": "王先生",
            "reporter_phone": "13800000000",
            "source": "hotline_12345",
            "category": Category.objects.get(code="E0101").pk,
            "title": "小区门口垃圾",
            "description": "市民来电：南湖路12号门口垃圾两天没人收",
            "latitude": f"{lat:.6f}",
            "longitude": f"{lon:.6f}",
            "address": "南湖路12号",
        },
    )
    assert response.status_code == 302
    event = Event.objects.latest("id")
    assert event.source == "hotline_12345" and event.reporter_name == "王先生"


def test_the_console_links_the_hotline_mode(login):
    assert "/report/hotline/" in login("op_nanhu").get("/console/").content.decode()


def test_supervisors_get_a_scoped_list_with_due_filters_and_urge(login, client):
    with freeze_time(datetime(2026, 11, 25, 10, tzinfo=SH)):
        late = file_event(title="晚了")
        fresh = file_event(title="刚报")
        theirs = file_event(reporter="gw_xiling1", grid=XILING_GRID)
    with freeze_time(datetime(2026, 11, 25, 10, 26, tzinfo=SH)):
        fresh2 = file_event(title="新的")  # 26 of 30 minutes used at 10:52: yellow
    with freeze_time(datetime(2026, 11, 25, 10, 52, tzinfo=SH)):
        sweep()
    # `late` and `fresh` missed their dispatch limit: escalated to the district with a fresh clock.
    late.refresh_from_db()
    assert late.owner_unit.code == "990102" and late.light == "green"
    sup = login("sup_nanhu")
    with freeze_time(datetime(2026, 11, 25, 10, 52, tzinfo=SH)):
        everything = sup.get("/supervise/events/")
        overdue = sup.get("/supervise/events/", {"due": "overdue"})
        soon = sup.get("/supervise/events/", {"due": "soon"})
    assert everything.status_code == 200
    listed = {e.code for e in everything.context["events"]}
    assert {late.code, fresh.code, fresh2.code} <= listed and theirs.code not in listed
    assert {e.code for e in overdue.context["events"]} == {late.code, fresh.code}
    # Escalated with a fresh (green) clock at the district, still red for the dispatch step it missed.
    assert {e.code: e.shown_light for e in overdue.context["events"]}[late.code] == "red"
    dots = {d["code"]: d["light"] for d in overdue.context["map"]["events"]}
    assert dots[late.code] == "red" and theirs.code not in dots
    assert {e.code for e in soon.context["events"]} == {fresh2.code}
    # Urge from the list comes back to the list.
    back = "/supervise/events/?due=overdue"
    response = sup.post(
        f"/supervise/urge/{late.pk}",
        {"expected_version": Event.objects.get(pk=late.pk).version, "note": "请马上派遣", "next": back},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302 and response["Location"] == back
    assert Event.objects.get(pk=late.pk).urge_count == 1


def test_the_list_is_404_for_those_who_do_not_supervise(login):
    assert login("op_nanhu").get("/supervise/events/").status_code == 404


def test_hotline_mode_has_no_fixed_on_the_spot(login):
    html = login("op_nanhu").get("/report/hotline/").content.decode()
    assert 'name="fixed_on_spot"' not in html
    assert 'name="fixed_on_spot"' in login("gw_nanhu1").get("/report/").content.decode()
