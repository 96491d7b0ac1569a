"""The web product through HTTP: the closed loop in forms, errors beside fields, scoping of every page."""

import pytest

from dispatch.models import Notification, RoutingRule
from incidents.models import Event, State
from operations.outbox import deliver_pending
from tests.factories import GRID, file_event, png, point_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def manual_dispatch():
    RoutingRule.objects.filter(category__code__in=["E01", "E0101"]).update(is_active=False)


def seen(event) -> dict:
    """What every action form carries: the version of the event the page showed (here: the current one)."""
    return {"expected_version": Event.objects.get(pk=event.pk).version}


def _file_via_form(client, **overrides):
    lat, lon = point_in(GRID)
    from incidents.models import Category

    data = {
        "category": Category.objects.get(code="E0101").pk,
        "title": "路口垃圾堆积",
        "description": "南湖路口东侧",
        "latitude": f"{lat:.6f}",
        "longitude": f"{lon:.6f}",
        "address": "南湖路1号",
        "source": "grid_worker",
        "photos": [png("before.jpg")],
    }
    data.update(overrides)
    return client.post("/report/", data)


def test_the_closed_loop_through_the_web(client, login):
    gw = login("gw_nanhu1")
    response = _file_via_form(gw)
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    event = Event.objects.latest("id")
    assert event.attachments.count() == 1
    client.logout()

    op = login("op_nanhu")
    page = op.get(f"/events/{event.pk}/")
    assert "dispatch" in page.context["actions"]
    dept_id = page.context["forms"]["dispatch"].fields["department"].queryset.get(code="990102001-huanwei").pk
    response = op.post(f"/events/{event.pk}/act/dispatch", {"dispatch-department": dept_id, **seen(event)})
    assert response.status_code == 302
    op.logout()

    hd = login("hd_nanhu_huanwei")
    assert event.code in hd.get("/inbox/").content.decode()
    assert hd.post(f"/events/{event.pk}/act/accept", seen(event)).status_code == 302
    response = hd.post(
        f"/events/{event.pk}/act/submit-result",
        {"submit-result-note": "已清运", "submit-result-photos": [png("after.png")], **seen(event)},
    )
    assert response.status_code == 302
    hd.logout()

    gw = login("gw_nanhu1")
    assert event.code in gw.get("/verify/").content.decode()
    response = gw.post(
        f"/events/{event.pk}/act/verify", {"verify-passed": "1", "verify-photos": [png("check.png")], **seen(event)}
    )
    assert response.status_code == 302
    gw.logout()

    op = login("op_nanhu")
    assert op.post(f"/events/{event.pk}/act/close", {"close-note": "", **seen(event)}).status_code == 302
    event.refresh_from_db()
    assert event.state == State.CLOSED
    assert [r.action for r in event.records.order_by("seq")] == [
        "file",
        "dispatch",
        "accept",
        "submit_result",
        "verify_pass",
        "close",
    ]


def test_form_errors_sit_beside_the_field_and_keep_the_input(login):
    gw = login("gw_nanhu1")
    response = _file_via_form(gw, title="", latitude="31.9", longitude="121.9", photos=[png()])
    assert response.status_code == 200
    form = response.context["form"]
    assert "title" in form.errors
    assert form["description"].value() == "南湖路口东侧"
    response = _file_via_form(gw, latitude="31.9", longitude="121.9")
    assert "31.900000" in response.context["form"].errors["latitude"][0]


def test_a_text_file_as_photo_is_an_error_not_a_crash(login):
    from django.core.files.uploadedfile import SimpleUploadedFile

    gw = login("gw_nanhu1")
    response = _file_via_form(gw, photos=[SimpleUploadedFile("a.jpg", b"not an image")])
    assert response.status_code == 200
    assert "photos" in response.context["form"].errors


def test_likely_duplicates_are_shown_before_filing(login):
    gw = login("gw_nanhu1")
    first = file_event()
    response = _file_via_form(gw)
    assert response.status_code == 200
    assert [d.event.pk for d in response.context["duplicates"]] == [first.pk]
    response = _file_via_form(gw, file_anyway="on")
    assert response.status_code == 302
    lat, lon = point_in(GRID)
    data = gw.get("/report/duplicates", {"category": first.category_id, "latitude": lat, "longitude": lon}).json()
    assert first.code in [d["code"] for d in data["duplicates"]]


def test_action_errors_keep_the_page(login):
    event = file_event()
    op = login("op_nanhu")
    response = op.post(f"/events/{event.pk}/act/escalate", {"escalate-reason": "", **seen(event)})
    assert response.status_code == 400
    assert response.context["forms"]["escalate"].errors["reason"]
    assert Event.objects.get(pk=event.pk).version == event.version


def test_conflicting_action_gives_a_message(login):
    event = file_event()
    op = login("op_nanhu")
    response = op.post(f"/events/{event.pk}/act/close", {"close-note": "", **seen(event)}, follow=True)
    assert response.status_code == 200
    assert any("Cannot" in str(m) or "无法" in str(m) for m in response.context["messages"])


def test_other_districts_get_404_for_every_event_page(login):
    events = [file_event() for _ in range(3)]
    other = login("op_hexi")
    for event in events:
        assert other.get(f"/events/{event.pk}/").status_code == 404
        assert (
            other.post(f"/events/{event.pk}/act/escalate", {"escalate-reason": "x", **seen(event)}).status_code == 404
        )
        assert other.post(f"/events/{event.pk}/reveal").status_code == 404
    page = other.get("/console/?state=all")
    assert not set(page.context["page"].object_list) & set(events)


def test_seen_but_not_allowed_is_403(login):
    event = file_event()
    sup = login("sup_nanhu")
    assert sup.get(f"/events/{event.pk}/").status_code == 200
    assert sup.post(f"/events/{event.pk}/act/close", {"close-note": "", **seen(event)}).status_code == 403


def test_pages_for_each_role(login, client):
    for username, url in [
        ("gw_nanhu1", "/report/"),
        ("gw_nanhu1", "/mine/"),
        ("gw_nanhu1", "/verify/"),
        ("op_nanhu", "/console/"),
        (
            "op_nanhu",
            "/console/?state=all&light=red&urgency=2&tier=3&source=grid_worker&since=2026-01-01&until=2026-12-31&q=x",
        ),
        ("hd_nanhu_huanwei", "/inbox/"),
        ("sup_nanhu", "/supervise/"),
        ("sup_nanhu", "/notifications/"),
        ("sup_nanhu", "/reports/sla/"),
    ]:
        c = login(username)
        assert c.get(url).status_code == 200, (username, url)
        c.logout()
    for username, url in [
        ("gw_nanhu1", "/console/"),
        ("op_nanhu", "/inbox/"),
        ("hd_nanhu_huanwei", "/supervise/"),
        ("hd_nanhu_huanwei", "/report/"),
    ]:
        c = login(username)
        assert c.get(url).status_code in (403, 404), (username, url)
        c.logout()
    for url in ["/report/", "/console/", "/inbox/", "/supervise/", "/notifications/", "/mine/"]:
        assert client.get(url).status_code == 302  # to the login page


def test_garbage_filters_do_not_crash(login):
    op = login("op_nanhu")
    response = op.get(
        "/console/", {"urgency": "x", "since": "yesterday", "tier": "99", "category": "abc", "page": "-1"}
    )
    assert response.status_code == 200


def test_quick_and_bulk_dispatch(login):
    RoutingRule.objects.filter(name="扩展事件 → 城管").update(is_active=True)
    suggested = file_event(category="E0602")  # a suggest rule
    op = login("op_nanhu")
    assert op.post(f"/console/dispatch/{suggested.pk}", seen(suggested)).status_code == 302
    assert Event.objects.get(pk=suggested.pk).state == State.DISPATCHED
    a, b = file_event(), file_event(title="另一处")
    from accounts.models import Department

    dept = Department.objects.get(code="990102001-huanwei")
    op.post(
        "/console/bulk-dispatch",
        {"department": dept.pk, "events": [a.pk, b.pk], f"version-{a.pk}": a.version, f"version-{b.pk}": b.version},
    )
    assert set(Event.objects.filter(pk__in=[a.pk, b.pk]).values_list("state", flat=True)) == {State.DISPATCHED}


def test_notifications_badge_and_list(login):
    file_event()
    deliver_pending()
    op = login("op_nanhu")
    page = op.get("/console/")
    assert page.context["unread_count"] >= 1
    op.post("/notifications/read")
    assert not Notification.objects.filter(user__username="op_nanhu", read_at__isnull=True).exists()


def test_supervisor_approves_and_urges_from_the_dashboard(login):
    from operations import services
    from tests.factories import accepted_event, user

    event = accepted_event()
    request = services.extension_request(actor=user("hd_nanhu_huanwei"), event_id=event.pk, hours=2, reason="x")
    sup = login("sup_nanhu")
    page = sup.get("/supervise/")
    assert request in page.context["pending"]
    sup.post(
        f"/events/{event.pk}/decide/{request.pk}", {"approve": "1", "note": "", "next": "/supervise/", **seen(event)}
    )
    request.refresh_from_db()
    assert request.status == "approved"
    sup.post(f"/supervise/urge/{event.pk}", {"note": "快", **seen(event)})
    assert Event.objects.get(pk=event.pk).urge_count == 1


def test_reveal_through_the_page(login):
    event = file_event(
        reporter="op_nanhu", source="hotline_12345", reporter_name="王先生", reporter_phone="13812345678"
    )
    hd = login("op_jiangnan")
    page = hd.get(f"/events/{event.pk}/")
    assert "138****5678" in page.content.decode()
    page = hd.post(f"/events/{event.pk}/reveal")
    assert "13812345678" in page.content.decode()


def test_the_queue_counts_up_to_its_cap_and_pages_in_deadline_order(login, monkeypatch):
    from interfaces.web.queues import QueuePaginator

    RoutingRule.objects.update(is_active=False)  # they stay in the street's queue
    events = [file_event(title=f"排队 {i}") for i in range(4)]
    op = login("op_nanhu")
    page = op.get("/console/")
    assert page.context["page"].paginator.count_label == "4"
    assert [e.pk for e in page.context["events"]] == [e.pk for e in sorted(events, key=lambda e: (e.due_at, e.pk))]
    monkeypatch.setattr(QueuePaginator, "CAP", 2)
    capped = op.get("/console/")
    assert capped.context["page"].paginator.count_label == "2+"
    assert '<small class="count">2+</small>' in capped.content.decode()
    monkeypatch.setattr("interfaces.web.queues.PAGE_SIZE", 1)
    paged = op.get("/console/?page=99")
    assert paged.context["page"].paginator.num_pages == 2  # the cap, not the 3rd row counted past it
    assert paged.context["page"].number == 2


def test_the_event_page_timeline_links_the_merged_event_only_for_those_who_may_see_it(login, client):
    from operations import services
    from tests.factories import dept, user

    target = file_event(grid="99010200100101", title="垃圾堆放")
    services.event_dispatch(actor=user("op_nanhu"), event_id=target.pk, department=dept("990102001-chengguan"))
    duplicate = file_event(grid="99010200100102", title="同一堆垃圾")
    services.event_merge(actor=user("op_nanhu"), event_id=duplicate.pk, into_event_id=target.pk)
    duplicate = Event.objects.get(pk=duplicate.pk)

    page = login("op_nanhu").get(f"/events/{target.pk}/").content.decode()
    assert f'href="/events/{duplicate.pk}/"' in page and duplicate.code in page
    back = client.get(f"/events/{duplicate.pk}/").content.decode()
    assert f'href="/events/{target.pk}/"' in back and target.code in back
    client.logout()
    for username in ("gw_nanhu1_01", "hd_nanhu_chengguan"):
        page = login(username).get(f"/events/{target.pk}/")
        assert page.status_code == 200
        assert duplicate.code not in page.content.decode() and f"/events/{duplicate.pk}/" not in page.content.decode()
        client.logout()


# --- #13 item 1: a handler who returns an event lands in the inbox, told what happened


def test_a_handler_who_returns_an_event_goes_back_to_the_inbox(login):
    from django.utils import translation

    from tests.factories import dispatched_event

    event = dispatched_event()
    hd = login("hd_nanhu_huanwei")
    with translation.override("zh-hans"):
        response = hd.post(
            f"/events/{event.pk}/act/return",
            {"return-reason": "不是环卫的事", **seen(event)},
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    page = hd.get("/inbox/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    assert "已退回，等待城运中心重新派遣" in page.content.decode()
    assert Event.objects.get(pk=event.pk).state == State.REPORTED


# --- #13 item 2: every action form carries the version the user saw


def test_an_action_from_a_stale_page_changes_nothing(login):
    from tests.factories import dispatched_event

    event = dispatched_event()
    hd = login("hd_nanhu_huanwei")
    page = hd.get(f"/events/{event.pk}/").content.decode()
    assert f'name="expected_version" value="{event.version}"' in page
    # Meanwhile the operator redispatches to another huanwei-capable department, then back.
    from accounts.models import Department
    from operations import services
    from tests.factories import user

    services.event_redispatch(
        actor=user("op_nanhu"),
        event_id=event.pk,
        department=Department.objects.get(code="990102001-chengguan"),
        reason="改派",
    )
    services.event_redispatch(
        actor=user("op_nanhu"),
        event_id=event.pk,
        department=Department.objects.get(code="990102001-huanwei"),
        reason="改回",
    )
    before = Event.objects.get(pk=event.pk)
    response = hd.post(
        f"/events/{event.pk}/act/accept", {"expected_version": event.version}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert any("while you were working" in str(m) for m in response.context["messages"])
    after = Event.objects.get(pk=event.pk)
    assert (after.state, after.version) == (before.state, before.version) == (State.DISPATCHED, event.version + 2)


def test_a_form_without_the_version_is_refused(login):
    event = file_event()
    op = login("op_nanhu")
    response = op.post(
        f"/events/{event.pk}/act/escalate", {"escalate-reason": "x"}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert any("which version" in str(m) for m in response.context["messages"])
    assert Event.objects.get(pk=event.pk).version == event.version


def test_stale_quick_bulk_dispatch_urge_and_decision_are_refused(login):
    from accounts.models import Department
    from operations import services
    from tests.factories import accepted_event, user

    RoutingRule.objects.filter(name="扩展事件 → 城管").update(is_active=True)
    suggested = file_event(category="E0602")
    stale = suggested.version
    services.invalidation_request(actor=user("op_nanhu"), event_id=suggested.pk, reason="看看")
    op = login("op_nanhu")
    op.post(f"/console/dispatch/{suggested.pk}", {"expected_version": stale})
    assert Event.objects.get(pk=suggested.pk).state == State.REPORTED
    a = file_event(title="另一处")
    dept = Department.objects.get(code="990102001-huanwei")
    op.post("/console/bulk-dispatch", {"department": dept.pk, "events": [a.pk], f"version-{a.pk}": a.version - 1})
    assert Event.objects.get(pk=a.pk).state == State.REPORTED

    event = accepted_event()
    request = services.extension_request(actor=user("hd_nanhu_huanwei"), event_id=event.pk, hours=2, reason="x")
    op.logout()
    sup = login("sup_nanhu")
    sup.post(f"/events/{event.pk}/decide/{request.pk}", {"approve": "1", "expected_version": event.version})
    request.refresh_from_db()
    assert request.status == "pending"
    sup.post(f"/supervise/urge/{event.pk}", {"note": "快", "expected_version": event.version})
    assert Event.objects.get(pk=event.pk).urge_count == 0


# --- #13 item 19: everyone who may read events reads the report for their own units


def test_a_community_operator_reads_the_report_of_their_community(login):
    file_event()
    op = login("op_nanhu1")
    page = op.get("/reports/sla/")
    assert page.status_code == 200
    assert page.context["form"].fields["unit"].queryset.get().code == "990102001001"
    assert page.context["report"].total.received >= 1
    api = op.get("/api/v1/reports/sla", {"unit": "990102001001"})
    assert api.status_code == 200 and api.json()["unit"] == "990102001001"
    assert op.get("/api/v1/reports/sla", {"unit": "990102001"}).status_code == 400  # not the whole street
