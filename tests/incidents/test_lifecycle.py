"""Every lifecycle operation, as the person allowed to do it and as people who must be refused."""

import pytest

from accounts.models import OrgUnit
from core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from dispatch.models import Notification, OutboxMessage
from incidents.history import verify_event_chain
from incidents.models import ApprovalRequest, Event, RequestStatus, State
from interfaces.web.events import available_actions
from operations import services
from operations.outbox import deliver_pending
from tests.factories import (
    GRID,
    accepted_event,
    closed_event,
    dept,
    dispatched_event,
    file_event,
    handled_event,
    png,
    user,
)

pytestmark = pytest.mark.django_db


def verify_queue_ids(username: str) -> set[int]:
    from django.test import Client

    client = Client()
    client.force_login(user(username))
    return {e.pk for e in client.get("/verify/").context["events"]}


def actions(event: Event) -> list[str]:
    return [r.action for r in event.records.order_by("seq")]


def unchanged(event: Event):
    """Assert the event did not change: same state, version and history length."""
    fresh = Event.objects.get(pk=event.pk)
    assert (fresh.state, fresh.version, fresh.records.count()) == (event.state, event.version, event.records.count())


def test_the_closed_loop():
    event = closed_event()
    assert event.state == State.CLOSED
    assert actions(event) == ["file", "dispatch", "accept", "submit_result", "verify_pass", "close"]
    assert event.version == event.records.count()
    for stamp in ("reported_at", "dispatched_at", "accepted_at", "handled_at", "verified_at", "closed_at"):
        assert getattr(event, stamp) is not None
    states = [(r.from_state, r.to_state) for r in event.records.order_by("seq")]
    assert states == [
        ("", "reported"),
        ("reported", "dispatched"),
        ("dispatched", "accepted"),
        ("accepted", "handled"),
        ("handled", "verified"),
        ("verified", "closed"),
    ]
    assert verify_event_chain(event.pk) is None


def test_the_state_field_cannot_be_assigned():
    event = file_event()
    with pytest.raises(AttributeError):
        event.state = State.CLOSED


# --- dispatch


def test_street_operator_dispatches_to_street_departments_with_co_handlers():
    event = file_event()
    event = services.event_dispatch(
        actor=user("op_nanhu"),
        event_id=event.pk,
        department=dept("990102001-huanwei"),
        co_departments=[dept("990102001-chengguan")],
    )
    assert event.lead_department.code == "990102001-huanwei"
    assert list(event.co_departments.values_list("code", flat=True)) == ["990102001-chengguan"]
    rec = event.records.get(action="dispatch")
    assert rec.actor_role == "operator" and rec.actor_unit.code == "990102001"
    assert rec.data == {"department": "990102001-huanwei", "co_departments": ["990102001-chengguan"]}


@pytest.mark.parametrize(
    ("department", "message"),
    [
        ("990102-huanwei", "above your tier"),
        ("990102002-huanwei", "does not serve the place"),
        ("990103-chengguan", "does not serve the place"),
    ],
)
def test_street_operator_cannot_dispatch_above_or_elsewhere(department, message):
    event = file_event()
    with pytest.raises(InvalidInput, match=message):
        services.event_dispatch(actor=user("op_nanhu"), event_id=event.pk, department=dept(department))
    unchanged(event)


def test_district_operator_dispatches_to_district_departments():
    event = file_event()
    event = services.event_dispatch(actor=user("op_jiangnan"), event_id=event.pk, department=dept("990102-shuiwu"))
    assert event.state == State.DISPATCHED


@pytest.mark.parametrize(
    ("username", "error"),
    [
        ("op_hexi", NotFound),  # another district: the event does not exist for them
        ("hd_nanhu_huanwei", NotFound),  # not (yet) their department's event
        ("gw_nanhu1", NotPermitted),  # sees it, may not dispatch
        ("sup_nanhu", NotPermitted),
        ("op_nanhu1", NotPermitted),  # community operator: the street owns the event
    ],
)
def test_others_cannot_dispatch(username, error):
    event = file_event()
    with pytest.raises(error):
        services.event_dispatch(actor=user(username), event_id=event.pk, department=dept("990102001-huanwei"))
    unchanged(event)


def test_redispatch_needs_a_reason_and_replaces_the_department():
    event = accepted_event()
    with pytest.raises(InvalidInput):
        services.event_redispatch(
            actor=user("op_nanhu"), event_id=event.pk, department=dept("990102001-chengguan"), reason=""
        )
    event = services.event_redispatch(
        actor=user("op_nanhu"), event_id=event.pk, department=dept("990102001-chengguan"), reason="属城管职责"
    )
    assert (event.state, event.lead_department.code, event.accepted_at) == (
        State.DISPATCHED,
        "990102001-chengguan",
        None,
    )
    assert event.records.get(action="redispatch").data["previous"] == "990102001-huanwei"


# --- escalate


def test_escalation_hands_the_event_to_the_parent_tier():
    event = file_event()
    with pytest.raises(InvalidInput):
        services.event_escalate(actor=user("op_nanhu"), event_id=event.pk, reason=" ")
    event = services.event_escalate(actor=user("op_nanhu"), event_id=event.pk, reason="需区级协调")
    assert event.owner_unit.code == "990102"
    # The street no longer dispatches it; the district does.
    with pytest.raises(NotPermitted):
        services.event_dispatch(actor=user("op_nanhu"), event_id=event.pk, department=dept("990102001-huanwei"))
    services.event_dispatch(actor=user("op_jiangnan"), event_id=event.pk, department=dept("990102-huanwei"))
    event = Event.objects.get(pk=event.pk)
    assert event.state == State.DISPATCHED


def test_the_city_cannot_escalate_further():
    event = file_event()
    for actor in ("op_nanhu", "op_jiangnan"):
        event = services.event_escalate(actor=user(actor), event_id=event.pk, reason="上报")
    with pytest.raises(Conflict, match="top tier"):
        services.event_escalate(actor=user("op_city"), event_id=event.pk, reason="上报")


def test_the_system_escalates_when_nobody_dispatches():
    event = file_event()
    event = services.event_escalate(actor=None, event_id=event.pk, reason="派遣超时")
    rec = event.records.get(action="escalate")
    assert rec.actor is None and rec.actor_role == "system"


# --- department side


def test_only_the_lead_department_accepts():
    event = dispatched_event()
    for username, error in (
        ("hd_nanhu_chengguan", NotFound),
        ("hd_jiangnan_huanwei", NotFound),
        ("op_nanhu", NotPermitted),
    ):
        with pytest.raises(error):
            services.event_accept(actor=user(username), event_id=event.pk)
    unchanged(event)
    event = services.event_accept(actor=user("hd_nanhu_huanwei"), event_id=event.pk)
    assert event.state == State.ACCEPTED and event.accepted_at


def test_return_goes_back_to_the_dispatcher_with_a_reason():
    event = accepted_event()
    with pytest.raises(InvalidInput):
        services.event_return(actor=user("hd_nanhu_huanwei"), event_id=event.pk, reason="")
    event = services.event_return(actor=user("hd_nanhu_huanwei"), event_id=event.pk, reason="不属于环卫职责")
    assert (event.state, event.lead_department, event.return_count) == (State.REPORTED, None, 1)
    assert event.owner_unit.code == "990102001"


def test_co_handlers_add_notes_but_only_the_lead_submits():
    event = file_event()
    services.event_dispatch(
        actor=user("op_nanhu"),
        event_id=event.pk,
        department=dept("990102001-huanwei"),
        co_departments=[dept("990102001-chengguan")],
    )
    services.event_accept(actor=user("hd_nanhu_huanwei"), event_id=event.pk)
    services.event_add_note(actor=user("hd_nanhu_chengguan"), event_id=event.pk, note="已协助劝离", photos=[png()])
    with pytest.raises(NotPermitted, match="only the lead"):
        services.event_submit_result(actor=user("hd_nanhu_chengguan"), event_id=event.pk, note="x", photos=[png()])
    with pytest.raises(NotFound):
        services.event_add_note(actor=user("hd_hexi_chengguan"), event_id=event.pk, note="x")
    event = Event.objects.get(pk=event.pk)
    assert event.state == State.ACCEPTED
    note = event.records.get(action="note")
    assert note.actor_department.code == "990102001-chengguan"
    assert note.data["photos"][0]["kind"] == "note"


def test_submitting_a_result_needs_a_note_and_a_photo():
    event = accepted_event()
    with pytest.raises(InvalidInput) as exc:
        services.event_submit_result(actor=user("hd_nanhu_huanwei"), event_id=event.pk, note="done")
    assert "photos" in exc.value.errors
    with pytest.raises(InvalidInput) as exc:
        services.event_submit_result(actor=user("hd_nanhu_huanwei"), event_id=event.pk, note="", photos=[png()])
    assert "note" in exc.value.errors
    unchanged(event)


# --- verify and close


def test_verification_fail_is_rework_back_to_the_department():
    event = handled_event()
    with pytest.raises(InvalidInput):
        services.event_verify(actor=user("gw_nanhu1"), event_id=event.pk, passed=False)
    event = services.event_verify(
        actor=user("gw_nanhu1"), event_id=event.pk, passed=False, note="仍有垃圾", photos=[png()]
    )
    assert (event.state, event.rework_count, event.lead_department.code) == (State.ACCEPTED, 1, "990102001-huanwei")
    assert event.attachments.filter(kind="verify").count() == 1


def test_verification_only_in_ones_own_grids():
    event = handled_event()
    with pytest.raises(NotFound):
        services.event_verify(actor=user("gw_xiling1"), event_id=event.pk, passed=True)
    # A grid worker of another grid of the same community does not even see it.
    event2 = handled_event(grid="99010200100102")
    with pytest.raises(NotFound):
        services.event_verify(actor=user("gw_nanhu1_01"), event_id=event2.pk, passed=True)
    services.event_verify(actor=user("gw_nanhu1"), event_id=event2.pk, passed=True)


def test_failed_verification_of_a_self_handled_event_needs_dispatch():
    event = file_event(fixed_on_spot=True, result_note="已清理", photos=[png()])
    event = services.event_verify(actor=user("gw_nanhu1_01"), event_id=event.pk, passed=False, note="没清干净")
    assert event.state == State.REPORTED


def test_nobody_verifies_their_own_result():
    """#13 item 7: the grid worker who fixed it on the spot may not also pass the check."""
    event = file_event(fixed_on_spot=True, result_note="已清理", photos=[png()])
    with pytest.raises(NotPermitted, match="submitted this result yourself"):
        services.event_verify(actor=user("gw_nanhu1"), event_id=event.pk, passed=True)
    unchanged(event)
    assert "verify" not in available_actions(user("gw_nanhu1"), Event.objects.get(pk=event.pk))
    assert event.pk not in verify_queue_ids("gw_nanhu1")
    # Another grid worker of the grid, or an operator, may.
    assert event.pk in verify_queue_ids("gw_nanhu1_01")
    assert services.event_verify(actor=user("op_nanhu"), event_id=event.pk, passed=True).state == State.VERIFIED


def test_a_handler_who_is_also_a_grid_worker_does_not_verify_their_own_result():
    event = accepted_event()
    from accounts.services import membership_grant

    membership_grant(user=user("hd_nanhu_huanwei"), role="grid_worker", org_unit=OrgUnit.objects.get(code=GRID))
    services.event_submit_result(actor=user("hd_nanhu_huanwei"), event_id=event.pk, note="已清理", photos=[png()])
    with pytest.raises(NotPermitted):
        services.event_verify(actor=user("hd_nanhu_huanwei"), event_id=event.pk, passed=True)
    assert services.event_verify(actor=user("gw_nanhu1"), event_id=event.pk, passed=True).state == State.VERIFIED


def test_closing_needs_verification_first():
    event = handled_event()
    with pytest.raises(Conflict, match="while it is"):
        services.event_close(actor=user("op_nanhu"), event_id=event.pk)
    unchanged(event)


def test_reopen_sends_a_closed_event_back_to_dispatch():
    event = closed_event()
    with pytest.raises(InvalidInput):
        services.event_reopen(actor=user("op_nanhu"), event_id=event.pk, reason="")
    event = services.event_reopen(actor=user("op_nanhu"), event_id=event.pk, reason="回访不满意")
    assert (event.state, event.reopen_count, event.lead_department, event.closed_at) == (State.REPORTED, 1, None, None)


# --- approvals


def test_extension_request_and_approval():
    event = accepted_event()
    request = services.extension_request(
        actor=user("hd_nanhu_huanwei"), event_id=event.pk, hours=8, reason="需调度车辆"
    )
    with pytest.raises(Conflict, match="already waiting"):
        services.extension_request(actor=user("hd_nanhu_huanwei"), event_id=event.pk, hours=4, reason="again")
    with pytest.raises(NotPermitted):
        services.request_decide(actor=user("op_nanhu"), request_id=request.pk, approve=True)
    with pytest.raises(NotFound):
        services.request_decide(actor=user("sup_hexi"), request_id=request.pk, approve=True)
    services.request_decide(actor=user("sup_nanhu"), request_id=request.pk, approve=True)
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED
    with pytest.raises(Conflict, match="already decided"):
        services.request_decide(actor=user("sup_nanhu"), request_id=request.pk, approve=False, note="no")
    assert actions(Event.objects.get(pk=event.pk))[-2:] == ["extension_request", "extension_approve"]


@pytest.mark.parametrize("hours", [0, -3, "many", 100000])
def test_extension_hours_are_validated(hours):
    event = accepted_event()
    with pytest.raises(InvalidInput):
        services.extension_request(actor=user("hd_nanhu_huanwei"), event_id=event.pk, hours=hours, reason="x")


def test_refusing_needs_a_reason():
    event = accepted_event()
    request = services.extension_request(actor=user("hd_nanhu_huanwei"), event_id=event.pk, hours=8, reason="x")
    with pytest.raises(InvalidInput):
        services.request_decide(actor=user("sup_nanhu"), request_id=request.pk, approve=False)
    services.request_decide(actor=user("sup_nanhu"), request_id=request.pk, approve=False, note="时限充足")
    assert actions(Event.objects.get(pk=event.pk))[-1] == "extension_refuse"


def test_suspension_needs_approval_and_resume_runs_the_clock_again():
    event = accepted_event()
    request = services.suspension_request(actor=user("hd_nanhu_huanwei"), event_id=event.pk, reason="冬季无法施工")
    assert Event.objects.get(pk=event.pk).state == State.ACCEPTED
    services.request_decide(actor=user("sup_jiangnan"), request_id=request.pk, approve=True)
    event = Event.objects.get(pk=event.pk)
    assert event.state == State.SUSPENDED
    with pytest.raises(Conflict):
        services.event_submit_result(actor=user("hd_nanhu_huanwei"), event_id=event.pk, note="x", photos=[png()])
    event = services.event_resume(actor=user("hd_nanhu_huanwei"), event_id=event.pk)
    assert event.state == State.ACCEPTED


def test_invalidation_is_proposed_by_an_operator_and_approved_by_a_supervisor():
    event = file_event()
    with pytest.raises(NotFound):
        services.invalidation_request(actor=user("hd_nanhu_huanwei"), event_id=event.pk, reason="x")
    with pytest.raises(NotPermitted):
        services.invalidation_request(actor=user("gw_nanhu1"), event_id=event.pk, reason="x")
    request = services.invalidation_request(actor=user("op_nanhu"), event_id=event.pk, reason="重复的恶作剧")
    assert Event.objects.get(pk=event.pk).state == State.REPORTED
    services.request_decide(actor=user("sup_nanhu"), request_id=request.pk, approve=True)
    event = Event.objects.get(pk=event.pk)
    assert event.state == State.INVALIDATED
    with pytest.raises(Conflict):
        services.event_dispatch(actor=user("op_nanhu"), event_id=event.pk, department=dept("990102001-huanwei"))


def test_a_supervisor_invalidates_directly():
    event = dispatched_event()
    event = services.event_invalidate(actor=user("sup_nanhu"), event_id=event.pk, reason="非城市管理问题")
    assert event.state == State.INVALIDATED
    assert ApprovalRequest.objects.get(event=event).status == RequestStatus.APPROVED
    with pytest.raises(NotPermitted):
        services.event_invalidate(actor=user("op_nanhu"), event_id=file_event().pk, reason="x")


# --- urge


def test_urge_is_recorded_and_notified_without_a_state_change():
    event = accepted_event()
    with pytest.raises(NotPermitted):
        services.event_urge(actor=user("op_nanhu"), event_id=event.pk, note="快")
    event = services.event_urge(actor=user("sup_nanhu"), event_id=event.pk, note="已超时，请尽快处置")
    assert (event.state, event.urge_count) == (State.ACCEPTED, 1)
    rec = event.records.get(action="urge")
    assert rec.from_state == rec.to_state == "accepted"
    deliver_pending()
    notified = set(Notification.objects.filter(event=event, kind="urge").values_list("user__username", flat=True))
    assert notified == {"hd_nanhu_huanwei", "op_nanhu"}


def test_closed_events_cannot_be_urged():
    event = closed_event()
    with pytest.raises(Conflict):
        services.event_urge(actor=user("sup_nanhu"), event_id=event.pk, note="x")


# --- merge


def test_merge_refuses_itself_and_closed_targets():
    event = file_event()
    with pytest.raises(InvalidInput):
        services.event_merge(actor=user("op_nanhu"), event_id=event.pk, into_event_id=event.pk)
    target = closed_event()
    with pytest.raises(Conflict):
        services.event_merge(actor=user("op_nanhu"), event_id=event.pk, into_event_id=target.pk)
    unchanged(event)


# --- side effects


def test_side_effects_leave_through_the_outbox_once():
    event = dispatched_event()
    topics = list(OutboxMessage.objects.filter(event=event).values_list("topic", flat=True))
    assert topics == ["event.file", "event.dispatch"]
    assert deliver_pending() >= 2
    assert deliver_pending() == 0
    assert set(Notification.objects.filter(event=event).values_list("user__username", "kind")) == {
        ("op_nanhu", "file"),
        ("hd_nanhu_huanwei", "dispatch"),
    }


def test_a_refused_operation_queues_nothing():
    event = file_event()
    count = OutboxMessage.objects.count()
    with pytest.raises(NotFound):
        services.event_dispatch(actor=user("op_hexi"), event_id=event.pk, department=dept("990102001-huanwei"))
    assert OutboxMessage.objects.count() == count


def test_a_stale_version_is_a_conflict():
    event = file_event()
    services.event_dispatch(
        actor=user("op_nanhu"), event_id=event.pk, department=dept("990102001-huanwei"), expected_version=event.version
    )
    with pytest.raises(Conflict, match="Someone else changed"):
        services.event_escalate(actor=user("op_nanhu"), event_id=event.pk, reason="x", expected_version=event.version)


# --- #13 item 5: a change withdraws the pending requests it makes moot


def test_submitting_the_result_withdraws_a_pending_invalidation_request():
    event = accepted_event()
    request = services.invalidation_request(actor=user("op_nanhu"), event_id=event.pk, reason="疑似重复")
    services.event_submit_result(actor=user("hd_nanhu_huanwei"), event_id=event.pk, note="已清理", photos=[png()])
    request.refresh_from_db()
    assert request.status == RequestStatus.REFUSED and request.decision_note
    record = Event.objects.get(pk=event.pk).records.get(action="submit_result")
    assert record.data["withdrawn_requests"] == [request.pk]
    assert not ApprovalRequest.objects.filter(event=event, status=RequestStatus.PENDING).exists()
    with pytest.raises(Conflict, match="already decided"):
        services.request_decide(actor=user("sup_nanhu"), request_id=request.pk, approve=True)
    assert verify_event_chain(event.pk) is None


def test_merging_withdraws_every_request_of_the_duplicate():
    duplicate, target = file_event(), file_event(title="同一处")
    request = services.invalidation_request(actor=user("op_nanhu"), event_id=duplicate.pk, reason="x")
    services.event_merge(actor=user("op_nanhu"), event_id=duplicate.pk, into_event_id=target.pk)
    request.refresh_from_db()
    assert request.status == RequestStatus.REFUSED
    assert Event.objects.get(pk=duplicate.pk).records.get(action="merge").data["withdrawn_requests"] == [request.pk]
    assert not ApprovalRequest.objects.filter(status=RequestStatus.PENDING, event__in=[duplicate, target]).exists()


def test_a_request_that_still_applies_stays_pending():
    event = dispatched_event()
    request = services.invalidation_request(actor=user("op_nanhu"), event_id=event.pk, reason="x")
    services.event_accept(actor=user("hd_nanhu_huanwei"), event_id=event.pk)
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING
    assert "withdrawn_requests" not in Event.objects.get(pk=event.pk).records.get(action="accept").data


# --- #13 item 2: every service takes the version the user saw


@pytest.mark.parametrize(
    "operation",
    [
        lambda e, v: services.event_urge(actor=user("sup_nanhu"), event_id=e.pk, note="快", expected_version=v),
        lambda e, v: services.event_add_note(
            actor=user("hd_nanhu_huanwei"), event_id=e.pk, note="x", expected_version=v
        ),
        lambda e, v: services.extension_request(
            actor=user("hd_nanhu_huanwei"), event_id=e.pk, hours=2, reason="x", expected_version=v
        ),
        lambda e, v: services.suspension_request(
            actor=user("hd_nanhu_huanwei"), event_id=e.pk, reason="x", expected_version=v
        ),
        lambda e, v: services.invalidation_request(
            actor=user("op_nanhu"), event_id=e.pk, reason="x", expected_version=v
        ),
        lambda e, v: services.event_invalidate(actor=user("sup_nanhu"), event_id=e.pk, reason="x", expected_version=v),
    ],
    ids=["urge", "note", "extension", "suspension", "invalidation-request", "invalidate"],
)
def test_a_stale_version_is_a_conflict_for_every_operation(operation):
    event = accepted_event()
    with pytest.raises(Conflict, match="while you were working"):
        operation(event, event.version - 1)
    unchanged(event)
    operation(event, event.version)
    assert Event.objects.get(pk=event.pk).version > event.version
