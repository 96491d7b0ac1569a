"""Behaviours found missing in review, each pinned by a test."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from accounts.models import OrgUnit
from dispatch.models import Light, Notification, RoutingRule, SlaClock
from incidents.models import ApprovalRequest, Event, State
from incidents.selectors import events_for_user
from operations import services
from operations.outbox import deliver_pending
from operations.sweep import sweep
from tests.factories import accepted_event, dept, dispatched_event, file_event, user

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def manual_dispatch():
    RoutingRule.objects.update(is_active=False)


def test_moving_a_community_moves_its_events_scope():
    event = file_event()
    community = OrgUnit.objects.get(code="990102001001")
    community.parent = OrgUnit.objects.get(code="990103001")
    community.save()
    assert events_for_user(user("op_hexi")).filter(pk=event.pk).exists()
    assert not events_for_user(user("op_jiangnan")).filter(pk=event.pk).exists()


def test_an_extension_approved_after_a_breach_keeps_the_breach():
    """#13 item 3: an approved extension used to clear breached_at and the red notice."""
    with freeze_time(datetime(2026, 11, 25, 9, tzinfo=SH)):
        event = accepted_event()  # handle due 14:30
    with freeze_time(datetime(2026, 11, 25, 15, tzinfo=SH)):
        assert sweep().red >= 1
    with freeze_time(datetime(2026, 11, 25, 15, 10, tzinfo=SH)):
        from dispatch import sla

        sla.apply_extension(Event.objects.get(pk=event.pk), hours=8, at=datetime(2026, 11, 25, 15, 10, tzinfo=SH))
    handle = SlaClock.objects.get(event=event, step="handle", stopped_at__isnull=True)
    assert handle.due_at > datetime(2026, 11, 25, 15, 10, tzinfo=SH)  # more time for the work…
    assert handle.breached_at == handle.original_due_at  # …but the breach stays recorded
    assert (handle.red_notified, handle.light) == (True, Light.RED)
    with freeze_time(datetime(2026, 11, 27, 9, tzinfo=SH)):
        assert sweep().red == 0  # no second red notice for the same breach
    assert SlaClock.objects.get(pk=handle.pk).breached_at == handle.original_due_at


def test_notifications_follow_the_department_of_the_moment():
    event = dispatched_event()  # to 南湖街道环卫所
    services.event_redispatch(
        actor=user("op_nanhu"), event_id=event.pk, department=dept("990102001-chengguan"), reason="城管的事"
    )
    deliver_pending()
    got = set(
        Notification.objects.filter(event=event, kind__in=["dispatch", "redispatch"]).values_list(
            "user__username", "kind"
        )
    )
    assert got == {("hd_nanhu_huanwei", "dispatch"), ("hd_nanhu_chengguan", "redispatch")}


def test_a_departments_pending_requests_lapse_when_the_event_leaves_it():
    event = accepted_event()
    request = services.suspension_request(actor=user("hd_nanhu_huanwei"), event_id=event.pk, reason="季节性")
    services.event_redispatch(
        actor=user("op_nanhu"), event_id=event.pk, department=dept("990102001-chengguan"), reason="改派"
    )
    request.refresh_from_db()
    assert request.status == "refused"
    fresh = Event.objects.get(pk=event.pk)
    assert fresh.records.get(action="redispatch").data["withdrawn_requests"] == [request.pk]
    assert fresh.version == fresh.records.count()
    assert not ApprovalRequest.objects.filter(event=event, status="pending").exists()


@pytest.mark.parametrize(
    "url",
    [
        "/console/?until=9999-12-31",
        "/console/?since=0001-01-01",
        "/reports/sla/?unit=990102&start=2026-01-01&end=9999-12-31",
        "/reports/sla.csv?unit=990102&start=2026-01-01&end=9999-12-31",
        "/api/v1/reports/sla?unit=990102&start=2026-01-01&end=9999-12-31",
        "/api/v1/events?reported_to=9999-12-31",
        "/report/duplicates?category=1&latitude=inf&longitude=120",
        "/report/duplicates?category=1&latitude=nan&longitude=120",
    ],
)
def test_extreme_inputs_are_refused_not_crashed(login, url):
    client = login("admin")
    response = client.get(url)
    assert response.status_code in (200, 400, 404), (url, response.status_code)


def test_the_inbox_refuses_extreme_dates(login):
    assert login("hd_nanhu_huanwei").get("/inbox/?until=9999-12-31").status_code == 200


def test_bulk_dispatch_ignores_non_ascii_digits(login):
    client = login("op_nanhu")
    response = client.post("/console/bulk-dispatch", {"department": dept("990102001-huanwei").pk, "events": ["²"]})
    assert response.status_code == 302


def test_no_open_redirect_after_a_decision(login):
    event = accepted_event()
    request = services.extension_request(actor=user("hd_nanhu_huanwei"), event_id=event.pk, hours=2, reason="x")
    client = login("sup_nanhu")
    response = client.post(
        f"/events/{event.pk}/decide/{request.pk}",
        {"approve": "1", "next": "https://evil.example/x", "expected_version": event.version + 1},
    )
    assert response.status_code == 302 and "evil.example" not in response["Location"]
    request.refresh_from_db()
    assert request.status == "approved"


def test_hotline_callers_contact_is_kept_from_the_web_form(login):
    from incidents.models import Category
    from tests.factories import point_in

    lat, lon = point_in()
    client = login("op_nanhu")
    client.post(
        "/report/",
        {
            "category": Category.objects.get(code="E0601").pk,
            "title": "群租扰民",
            "latitude": lat,
            "longitude": lon,
            "source": "hotline_12345",
            "reporter_name": "李女士",
            "reporter_phone": "13700002222",
        },
    )
    event = Event.objects.get(title="群租扰民")
    assert (event.source, event.reporter_name, event.reporter_phone) == ("hotline_12345", "李女士", "13700002222")
    assert event.state == State.REPORTED
