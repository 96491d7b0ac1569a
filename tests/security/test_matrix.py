"""The permission matrix of docs/PERMISSIONS.md, checked operation by operation.

For each operation: the allowed persona succeeds; the same tier in another
district, a lower tier, a department of another district and an anonymous
visitor are refused: 404 (NotFound) when the event is outside what they may
see, 403 (NotPermitted) when they see it but may not act, and nothing changes.
"""

import pytest
from django.contrib.auth.models import AnonymousUser

from core.errors import NotFound, NotPermitted
from dispatch.models import RoutingRule
from incidents.models import ApprovalRequest, Event
from operations import services as s
from tests.factories import accepted_event, dept, dispatched_event, file_event, handled_event, png, user, verified_event

pytestmark = pytest.mark.django_db

OK, DENY, HIDDEN = "ok", NotPermitted, NotFound


def _closed():
    event = verified_event()
    return s.event_close(actor=user("op_nanhu"), event_id=event.pk)


def _pending(kind):
    def make():
        event = accepted_event() if kind != "invalidation" else file_event()
        if kind == "extension":
            s.extension_request(actor=user("hd_nanhu_huanwei"), event_id=event.pk, hours=2, reason="x")
        elif kind == "suspension":
            s.suspension_request(actor=user("hd_nanhu_huanwei"), event_id=event.pk, reason="x")
        else:
            s.invalidation_request(actor=user("op_nanhu"), event_id=event.pk, reason="x")
        return Event.objects.get(pk=event.pk)

    return make


def _decide(actor, event):
    request = ApprovalRequest.objects.get(event=event, status="pending")
    return s.request_decide(actor=actor, request_id=request.pk, approve=True)


OPERATIONS = {
    "dispatch": (
        file_event,
        lambda a, e: s.event_dispatch(actor=a, event_id=e.pk, department=dept("990102001-huanwei")),
    ),
    "redispatch": (
        dispatched_event,
        lambda a, e: s.event_redispatch(actor=a, event_id=e.pk, department=dept("990102001-chengguan"), reason="x"),
    ),
    "escalate": (file_event, lambda a, e: s.event_escalate(actor=a, event_id=e.pk, reason="x")),
    "accept": (dispatched_event, lambda a, e: s.event_accept(actor=a, event_id=e.pk)),
    "return": (dispatched_event, lambda a, e: s.event_return(actor=a, event_id=e.pk, reason="x")),
    "extension_request": (
        accepted_event,
        lambda a, e: s.extension_request(actor=a, event_id=e.pk, hours=2, reason="x"),
    ),
    "submit_result": (
        accepted_event,
        lambda a, e: s.event_submit_result(actor=a, event_id=e.pk, note="x", photos=[png()]),
    ),
    "verify": (handled_event, lambda a, e: s.event_verify(actor=a, event_id=e.pk, passed=True)),
    "close": (verified_event, lambda a, e: s.event_close(actor=a, event_id=e.pk)),
    "reopen": (_closed, lambda a, e: s.event_reopen(actor=a, event_id=e.pk, reason="x")),
    "urge": (accepted_event, lambda a, e: s.event_urge(actor=a, event_id=e.pk, note="x")),
    "invalidation_request": (file_event, lambda a, e: s.invalidation_request(actor=a, event_id=e.pk, reason="x")),
    "approve_extension": (_pending("extension"), _decide),
    "approve_suspension": (_pending("suspension"), _decide),
    "approve_invalidation": (_pending("invalidation"), _decide),
    "merge": (file_event, lambda a, e: s.event_merge(actor=a, event_id=e.pk, into_event_id=file_event().pk)),
}

# operation → [(persona, expected)]; the first persona is the one allowed.
MATRIX = {
    "dispatch": [
        ("op_nanhu", OK),
        ("op_jiangnan", OK),
        ("op_xiling", HIDDEN),
        ("op_nanhu1", DENY),
        ("gw_nanhu1", DENY),
        ("hd_hexi_chengguan", HIDDEN),
    ],
    "redispatch": [("op_nanhu", OK), ("op_xiling", HIDDEN), ("hd_nanhu_huanwei", DENY), ("hd_hexi_chengguan", HIDDEN)],
    "escalate": [("op_nanhu", OK), ("op_xiling", HIDDEN), ("op_nanhu1", DENY), ("sup_nanhu", DENY)],
    "accept": [
        ("hd_nanhu_huanwei", OK),
        ("hd_nanhu_chengguan", HIDDEN),
        ("hd_hexi_chengguan", HIDDEN),
        ("op_nanhu", DENY),
    ],
    "return": [("hd_nanhu_huanwei", OK), ("hd_jiangnan_huanwei", HIDDEN), ("op_nanhu", DENY), ("gw_nanhu1", DENY)],
    "extension_request": [("hd_nanhu_huanwei", OK), ("hd_xiling_chengguan", HIDDEN), ("op_nanhu", DENY)],
    "submit_result": [
        ("hd_nanhu_huanwei", OK),
        ("hd_hexi_chengguan", HIDDEN),
        ("op_jiangnan", DENY),
        ("gw_nanhu1", DENY),
    ],
    "verify": [("gw_nanhu1", OK), ("gw_xiling1", HIDDEN), ("gw_nanhu1_01", OK), ("hd_nanhu_huanwei", DENY)],
    "close": [("op_nanhu", OK), ("op_hexi", HIDDEN), ("gw_nanhu1", DENY), ("sup_nanhu", DENY)],
    "reopen": [("op_nanhu", OK), ("op_xiling", HIDDEN), ("gw_nanhu1", DENY)],
    "urge": [("sup_nanhu", OK), ("sup_jiangnan", OK), ("sup_hexi", HIDDEN), ("op_nanhu", DENY)],
    "invalidation_request": [("op_nanhu", OK), ("op_xiling", HIDDEN), ("gw_nanhu1", DENY)],
    "approve_extension": [("sup_nanhu", OK), ("sup_hexi", HIDDEN), ("op_nanhu", DENY), ("op_city", DENY)],
    "approve_suspension": [("sup_jiangnan", OK), ("sup_hexi", HIDDEN), ("op_jiangnan", DENY)],
    "approve_invalidation": [("sup_city", OK), ("sup_hexi", HIDDEN), ("op_nanhu", DENY)],
    "merge": [("op_nanhu", OK), ("op_xiling", HIDDEN), ("gw_nanhu1", DENY)],
}

CASES = [(op, persona, expected) for op, rows in MATRIX.items() for persona, expected in rows]
CASES += [(op, None, HIDDEN) for op in MATRIX]  # anonymous: nothing exists for them


@pytest.fixture(autouse=True)
def manual_dispatch():
    RoutingRule.objects.update(is_active=False)


@pytest.mark.parametrize(("operation", "persona", "expected"), CASES)
def test_permission_matrix(operation, persona, expected):
    setup, call = OPERATIONS[operation]
    event = setup()
    before = Event.objects.filter(pk=event.pk).values("state", "version", "owner_unit", "lead_department").get()
    actor = user(persona) if persona else AnonymousUser()
    if expected == OK:
        call(actor, event)
        after = Event.objects.filter(pk=event.pk).values("version").get()
        assert after["version"] > before["version"]
    else:
        with pytest.raises(expected):
            call(actor, event)
        assert (
            Event.objects.filter(pk=event.pk).values("state", "version", "owner_unit", "lead_department").get()
            == before
        )


def test_an_operator_probing_every_id_finds_nothing_of_another_district():
    from incidents.selectors import event_for_user

    ours = [file_event(grid="99010300100101", reporter="gw_xiling1").pk for _ in range(3)]
    theirs = [file_event().pk for _ in range(3)]
    prober = user("op_hexi")
    for pk in theirs:
        with pytest.raises(NotFound):
            event_for_user(prober, pk=pk)
        with pytest.raises(NotFound):
            s.event_urge(actor=prober, event_id=pk, note="x")
    for pk in ours:
        assert event_for_user(prober, pk=pk).pk == pk
    with pytest.raises(NotFound):
        event_for_user(prober, pk=max(ours + theirs) + 1000)
