"""A small story, then every reading route as every persona: nobody reads another scope's event.

The story: events in two districts (江南区 南湖 grids 01 and 02, 河西区 西岭), a return with a
reason, a merge across two grids, a reopen with a reason, a hotline caller's name and phone,
photos, pending requests. Then each persona reads the lists, counts, details, histories, photos,
exports, notifications and Open311 feeds, and no body names an event code the persona may not
see (oracle: who holds the unit or the department, computed here, not by the selector), nor the
caller's full contact, nor an internal reason of an event outside their scope. Anonymous
Open311 readers never read an internal reason at all.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from dispatch.models import DepartmentEndpoint, OutboxMessage, RoutingRule, WebhookDelivery
from incidents.models import Event, Source
from operations import services
from operations.outbox import deliver_pending
from tests.factories import dept, file_event, png, user

pytestmark = pytest.mark.django_db

GRID_01 = "99010200100101"  # 南湖一村 grid 01 (gw_nanhu1_01's)
GRID_02 = "99010200100102"  # 南湖一村 grid 02
XILING = "99010300100101"  # 西岭一村 grid 01, 河西区

RETURN_REASON = "退回理由-内部-7731"
REOPEN_REASON = "重开理由-内部-8842"
INVALIDATION_REASON = "作废理由-内部-9953"
EXTENSION_REASON = "延期理由-内部-6614"
CALLER_PHONE = "13812345678"
CALLER_NAME = "王先生"

PERSONAS = [
    "op_city",
    "op_jiangnan",
    "op_nanhu",
    "op_nanhu1",
    "sup_nanhu",
    "gw_nanhu1",
    "gw_nanhu1_01",
    "hd_nanhu_huanwei",
    "hd_nanhu_chengguan",
    "op_hexi",
    "op_xiling",
    "sup_hexi",
    "gw_xiling1",
    "hd_xiling_chengguan",
    "hd_hexi_chengguan",
]


@pytest.fixture
def story():
    RoutingRule.objects.update(is_active=False)
    op = user("op_nanhu")
    huanwei, chengguan = dept("990102001-huanwei"), dept("990102001-chengguan")
    for department in (huanwei, chengguan, dept("990103001-chengguan")):  # their systems get webhooks
        DepartmentEndpoint.objects.create(department=department, url="http://127.0.0.1:9/hook")
    # a: grid 01, returned by 环卫 with a reason, then sent to 城管: 环卫 no longer sees it.
    a = file_event(reporter="gw_nanhu1_01", grid=GRID_01, photos=[png("a.png")])
    services.event_dispatch(actor=op, event_id=a.pk, department=huanwei)
    services.event_return(actor=user("hd_nanhu_huanwei"), event_id=a.pk, reason=RETURN_REASON)
    services.event_dispatch(actor=op, event_id=a.pk, department=chengguan)
    # b: grid 02, the same problem, merged into a (grid 01's worker must not learn b's code).
    b = file_event(reporter="gw_nanhu1", grid=GRID_02, photos=[png("b.png")])
    services.event_merge(actor=op, event_id=b.pk, into_event_id=a.pk, reason="重复")
    # c: a hotline call in grid 02, with the caller's name and phone, handled by 环卫.
    c = file_event(
        reporter="op_nanhu", grid=GRID_02, source=Source.HOTLINE, reporter_name=CALLER_NAME, reporter_phone=CALLER_PHONE
    )
    services.event_dispatch(actor=op, event_id=c.pk, department=huanwei)
    services.extension_request(actor=user("hd_nanhu_huanwei"), event_id=c.pk, hours=4, reason=EXTENSION_REASON)
    # d: an Open311 request in grid 02, closed, then reopened with a reason.
    d = file_event(reporter="op_nanhu", grid=GRID_02, source=Source.OPEN311)
    services.event_dispatch(actor=op, event_id=d.pk, department=huanwei)
    services.event_accept(actor=user("hd_nanhu_huanwei"), event_id=d.pk)
    services.event_submit_result(
        actor=user("hd_nanhu_huanwei"), event_id=d.pk, note="已清理", photos=[png("after.png")]
    )
    services.event_verify(actor=user("gw_nanhu1"), event_id=d.pk, passed=True)
    services.event_close(actor=op, event_id=d.pk)
    services.event_reopen(actor=op, event_id=d.pk, reason=REOPEN_REASON)
    # e: 西岭 (another district), dispatched, with an invalidation proposal.
    e = file_event(reporter="gw_xiling1", grid=XILING, photos=[png("e.png")])
    services.event_dispatch(actor=user("op_xiling"), event_id=e.pk, department=dept("990103001-chengguan"))
    services.invalidation_request(actor=user("op_xiling"), event_id=e.pk, reason=INVALIDATION_REASON)
    deliver_pending()
    assert not OutboxMessage.objects.filter(processed_at__isnull=True, dead_at__isnull=True).exists()
    return {k: Event.objects.get(pk=v.pk) for k, v in {"a": a, "b": b, "c": c, "d": d, "e": e}.items()}


def _may_see(username: str, event: Event) -> bool:
    """The oracle: a unit grant on an ancestor of the event's grid, or the event at the person's department now."""
    u = User.objects.get(username=username)
    units = set(u.memberships.exclude(org_unit=None).values_list("org_unit__code", flat=True))
    if units & set(event.grid.depth_codes):
        return True
    departments = set(u.memberships.exclude(department=None).values_list("department__code", flat=True))
    now = {event.lead_department.code if event.lead_department else None}
    now |= set(event.co_departments.values_list("code", flat=True))
    return bool(departments & now)


def _bodies(client: APIClient, story: dict[str, Event]) -> dict[str, str]:
    """Every reading route that answers this persona, as text (the XLSX unzipped)."""
    paths = [
        "/",
        "/mine/",
        "/verify/",
        "/console/?state=all",
        "/inbox/?state=all",
        "/supervise/",
        "/notifications/",
        "/reports/sla/",
        "/reports/sla.csv",
        "/reports/sla.xlsx",
        "/api/v1/events",
        "/api/v1/events?state=all",
        "/api/v1/requests",
        "/api/v1/reports/sla",
        "/open311/v2/requests.json",
        "/open311/v2/servicerequestupdates.json",
        "/open311/v2/requests.xml",
        "/open311/v2/servicerequestupdates.xml",
    ]
    for event in story.values():
        lat, lon = event.latitude, event.longitude
        paths.append(f"/report/duplicates?category={event.category_id}&latitude={lat}&longitude={lon}")
        paths += [f"/events/{event.pk}/", f"/api/v1/events/{event.code}", f"/api/v1/events/{event.code}/history"]
        paths.append(f"/open311/v2/requests/{event.code}.json")
        for photo in event.attachments.all():
            paths += [f"/events/{event.pk}/photos/{photo.pk}", f"/api/v1/events/{event.code}/photos/{photo.pk}"]
    bodies = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code < 500, (path, response.status_code)
        if response.status_code != 200:
            continue
        content = b"".join(response.streaming_content) if response.streaming else response.content
        if content.startswith(b"PK"):  # the XLSX: its shared strings and sheets
            with zipfile.ZipFile(io.BytesIO(content)) as book:
                content = b"".join(book.read(n) for n in book.namelist() if n.endswith(".xml"))
        bodies[path] = content.decode(errors="ignore")
    return bodies


@pytest.mark.parametrize("username", [*PERSONAS, None])
def test_no_route_shows_another_scopes_event_contact_or_reason(story, username):
    client = APIClient()
    if username:
        client.force_login(User.objects.get(username=username))
    bodies = _bodies(client, story)
    assert bodies, username
    for name, event in story.items():
        visible = username is not None and _may_see(username, event)
        for path, body in bodies.items():
            public = path.startswith("/open311/") and event.source == Source.OPEN311  # the public's own requests
            # 环卫 was told of `a` and `d` when they were dispatched to it; its own notifications keep their codes.
            told = path == "/notifications/" and username == "hd_nanhu_huanwei" and name in ("a", "d")
            if not (visible or public or told):
                assert event.code not in body, (username, name, path)
            # The caller's full contact is shown only after the logged reveal, never in a page or list.
            assert CALLER_PHONE not in body and CALLER_NAME not in body, (username, path)
            reasons = {"a": [RETURN_REASON], "c": [EXTENSION_REASON], "d": [REOPEN_REASON], "e": [INVALIDATION_REASON]}
            if not visible or path.startswith("/open311/"):
                for reason in reasons.get(name, []):
                    assert reason not in body, (username, name, path)


def test_webhooks_carry_no_reason_and_reach_only_departments_that_had_the_event(story):
    """What department systems receive: the event's facts, never a return, reopen or other internal reason."""
    deliveries = list(WebhookDelivery.objects.select_related("endpoint__department", "message__event"))
    assert deliveries
    for delivery in deliveries:
        for reason in (RETURN_REASON, REOPEN_REASON, INVALIDATION_REASON, EXTENSION_REASON, CALLER_PHONE, CALLER_NAME):
            assert reason not in delivery.body, delivery.body
        event = delivery.message.event
        had = set(event.records.exclude(actor_department=None).values_list("actor_department__code", flat=True))
        for r in event.records.filter(action__in=("dispatch", "redispatch")):
            had |= {r.data.get("department"), *r.data.get("co_departments", [])}
        assert delivery.endpoint.department.code in had, (delivery.endpoint.department.code, event.code)


def test_the_probe_is_not_vacuous(story):
    """The insiders do read what the outsiders must not, on the same routes."""
    a, b, e = story["a"], story["b"], story["e"]
    client = APIClient()
    client.force_login(user("op_nanhu"))
    history = client.get(f"/api/v1/events/{a.code}/history").content.decode()
    assert b.code in history and RETURN_REASON in history
    assert story["d"].code in client.get("/open311/v2/requests.json").content.decode()
    client.force_login(user("op_xiling"))
    assert INVALIDATION_REASON in client.get("/api/v1/requests").content.decode()
    assert e.code in client.get("/api/v1/events").content.decode()
    client.force_login(user("gw_nanhu1_01"))  # grid 01: reads `a`, not the duplicate from grid 02 merged into it
    history = client.get(f"/api/v1/events/{a.code}/history").content.decode()
    assert '"duplicate":null' in history.replace(" ", "") and b.code not in history
