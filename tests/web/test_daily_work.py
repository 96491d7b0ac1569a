"""#19 item 7, the smaller things from the walk: each checked through the pages."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation
from freezegun import freeze_time

from dispatch.models import Notification, RoutingRule, SlaClock
from incidents.models import ApprovalRequest, Event
from operations import services
from operations.outbox import deliver_pending
from tests.factories import accepted_event, closed_event, dept, file_event, handled_event, user, verified_event
from tests.web.test_pages import seen

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def manual_dispatch():
    RoutingRule.objects.update(is_active=False)


def test_extension_deadline_is_shown_before_asking_and_matches_the_approval(login, manual_dispatch):
    with freeze_time(datetime(2026, 11, 25, 9, tzinfo=SH)):
        event = accepted_event()
        hd = login("hd_nanhu_huanwei")
        preview = hd.get(f"/events/{event.pk}/extension-deadline", {"hours": "3"}).json()
        by_step = {d["step"]: d for d in preview["deadlines"]}
        assert "handle" in by_step
        page = hd.get(f"/events/{event.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "extra working hours" in page
        assert hd.get(f"/events/{event.pk}/extension-deadline", {"hours": "0"}).status_code == 400
        services.extension_request(actor=user("hd_nanhu_huanwei"), event_id=event.pk, hours=3, reason="材料未到")
        req = ApprovalRequest.objects.get(event=event)
        services.request_decide(actor=user("sup_nanhu"), request_id=req.pk, approve=True)
    handle = SlaClock.objects.get(event=event, step="handle", stopped_at__isnull=True)
    assert handle.due_at == datetime.fromisoformat(by_step["handle"]["due_at"])
    # The history says the new deadline.
    page = login("op_nanhu").get(f"/events/{event.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    local = handle.due_at.astimezone(SH).strftime("%Y-%m-%d %H:%M")
    assert f"new deadline {local} (+3 h)" in page


def test_the_extension_deadline_is_scoped(login, manual_dispatch):
    event = accepted_event()
    assert login("hd_xiling_chengguan").get(f"/events/{event.pk}/extension-deadline?hours=2").status_code == 404


def test_redispatch_history_names_both_departments(login, manual_dispatch):
    event = accepted_event()
    services.event_redispatch(
        actor=user("op_nanhu"), event_id=event.pk, department=dept("990102001-chengguan"), reason="属城管"
    )
    page = login("op_nanhu").get(f"/events/{event.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "from 南湖街道环卫所 to 南湖街道城管中队" in page


def test_a_failed_verification_supersedes_the_result_and_opens_a_rework_round(login, manual_dispatch):
    event = handled_event()
    services.event_verify(actor=user("gw_nanhu1"), event_id=event.pk, passed=False, note="仍有垃圾")
    response = login("op_nanhu").get(f"/events/{event.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    records = {r.action: r for r in response.context["records"]}
    assert records["submit_result"].superseded and not records["verify_fail"].superseded
    assert response.context["result_superseded"]
    rounds = response.context["clock_rounds"]
    assert rounds[0].label == "rework 1" and rounds[0].current
    assert rounds[-1].label == "first handling" and not rounds[-1].current
    assert any(c.step == "handle" and c.stopped_at is None for c in rounds[0].clocks)
    assert "superseded" in response.content.decode()


def test_reopen_is_重办_and_its_notification_carries_the_reason(login, manual_dispatch):
    event = closed_event()
    deliver_pending()
    op = login("op_nanhu")
    with translation.override("zh-hans"):
        page = op.get(f"/events/{event.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        assert "重办" in page
        services.event_reopen(actor=user("op_nanhu"), event_id=event.pk, reason="市民回访不满意：垃圾又堆了")
        deliver_pending()
    note = Notification.objects.filter(user=user("op_nanhu"), kind="reopen").get()
    assert "市民回访不满意：垃圾又堆了" in note.text
    # The page says it in the reader's language, with the event's title.
    html = op.get("/notifications/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"Event {event.code} is to be rehandled" in html and "市民回访不满意" in html
    assert f"「{event.title}」" in html
    html = op.get("/notifications/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "重办" in html


def test_auto_dispatched_events_do_not_tell_operators_to_dispatch():
    # The demo routes E0101 automatically at intake.
    event = file_event()
    assert Event.objects.get(pk=event.pk).state == "dispatched"
    deliver_pending()
    assert not Notification.objects.filter(event=event, kind="file").exists()
    assert Notification.objects.filter(event=event, kind="dispatch").exists()


def test_a_waiting_event_still_tells_operators(manual_dispatch):
    event = file_event()
    deliver_pending()
    assert Notification.objects.filter(event=event, kind="file", user=user("op_nanhu")).exists()


def test_field_names_never_leak_into_messages(login, manual_dispatch):
    event = accepted_event()
    services.extension_request(actor=user("hd_nanhu_huanwei"), event_id=event.pk, hours=2, reason="等材料")
    req = ApprovalRequest.objects.get(event=event)
    sup = login("sup_nanhu")
    sup.post(f"/events/{event.pk}/decide/{req.pk}", {"approve": "0", "note": "", **seen(event)})
    page = sup.get(f"/events/{event.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'class="error"' in page or "messages" in page
    assert "note:" not in page


def test_the_console_offers_dispatch_only_where_possible(login, manual_dispatch):
    waiting = file_event()
    done = verified_event()
    response = login("op_nanhu").get("/console/", {"state": "all"})
    html = response.content.decode()
    assert f'name="events" value="{waiting.pk}"' in html
    assert f'name="events" value="{done.pk}"' not in html


def test_filters_know_the_community_tier_and_fold(login, manual_dispatch):
    op = login("op_nanhu")
    html = op.get("/console/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<option value="4">community</option>' in html
    assert 'class="card filters-box"' in html
    assert op.get("/console/", {"tier": "4", "state": "all"}).status_code == 200


def test_traffic_light_tooltips_are_words(login, manual_dispatch):
    file_event()
    html = login("op_nanhu").get("/console/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'title="正常"' in html and 'title="green"' not in html
