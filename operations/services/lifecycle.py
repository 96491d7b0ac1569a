"""One service function per lifecycle operation.

Each: lock the event row, check who may (role and tier), demand a reason
where a person would expect one, run the transition, write history and queue
side effects, in one transaction. Nothing else changes an event's state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.core.files import File
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Department, OrgUnit, Tier, User
from core.errors import Conflict, InvalidInput, NotPermitted
from incidents.models import OPEN_STATES, WITH_DEPARTMENT, AttachmentKind, Event, EventRecord
from incidents.permissions import (
    HANDLER,
    OPERATOR,
    SUPERVISOR,
    SYSTEM,
    VERIFIER,
    Acting,
    department_grant,
    require_handler,
)
from incidents.photos import process_photos
from operations.services._base import (
    commit,
    locked_event,
    optional_text,
    photo_data,
    record,
    require_reason,
    run_transition,
    save_photos,
    withdraw_pending,
    written_files,
)

# The records that put an event into "handled": whoever wrote the latest may not verify it.
RESULT_ACTIONS = ("submit_result", "self_handle")
# Requests a department makes about its own work; they lapse when the work leaves it.
DEPARTMENT_REQUESTS = ("extension", "suspension")


def _operator(actor: User | None, event: Event, what: str) -> Acting:
    """Operators of the tier that owns the event (or above) triage, dispatch, close."""
    if actor is None:
        return SYSTEM
    return OPERATOR.require(actor, event, what)


def check_departments(acting: Acting, event: Event, lead: Department, co: Sequence[Department]) -> None:
    """A department may take the event when it serves the event's location and the dispatcher's jurisdiction."""
    errors: dict[str, str] = {}
    for field, dept in [("department", lead)] + [("co_departments", d) for d in co]:
        if not dept.is_active:
            errors[field] = _("%(dept)s is not active.") % {"dept": dept.name}
        elif not event.area_path.startswith(dept.org_unit.path):
            errors[field] = _("%(dept)s does not serve the place of this event.") % {"dept": dept.name}
        elif acting.unit is not None and not dept.org_unit.path.startswith(acting.unit.path):
            errors[field] = _("%(dept)s is above your tier; escalate the event instead.") % {"dept": dept.name}
    if lead in co:
        errors["co_departments"] = _("The lead department cannot also be a co-handler.")
    if errors:
        raise InvalidInput(errors)


def _department_codes(co: Sequence[Department]) -> list[str]:
    return sorted(d.code for d in co)


def event_dispatch(
    *,
    actor: User | None,
    event_id: int,
    department: Department,
    co_departments: Sequence[Department] = (),
    note: str = "",
    expected_version: int | None = None,
    acting: Acting | None = None,
    decided_by: dict | None = None,
) -> Event:
    """Dispatch (派遣) a reported event to a lead department, optionally with co-handlers (协办).

    `decided_by` goes into the history record's data (e.g. the learned model and its confidence), which
    the dispatch-accuracy report reads."""
    note = optional_text(note, "note")
    co = list(dict.fromkeys(co_departments))
    with locked_event(event_id, expected_version, viewer=actor) as event:
        acting = acting or _operator(actor, event, _("dispatch events"))
        now = timezone.now()
        from_state, data = apply_dispatch(acting, event, department, co, now)
        if decided_by:
            data["decided_by"] = decided_by
        event.co_departments.set(co)
        commit(event, acting, "dispatch", from_state=from_state, reason=note, data=data, at=now)
    return event


def apply_dispatch(
    acting: Acting, event: Event, department: Department, co: Sequence[Department], now: datetime
) -> tuple[str, dict]:
    """The dispatch itself, on the event in memory: checks, transition, the row's new facts.

    Returns the state it left and the history record's data. Shared by `event_dispatch` and
    intake's auto-dispatch (which writes the new event once, already dispatched).
    """
    check_departments(acting, event, department, co)
    from_state = run_transition(event, event.to_dispatched, _("dispatch"))
    event.lead_department = department
    event.dispatched_at = now
    event.first_dispatched_at = event.first_dispatched_at or now
    event.accepted_at = None
    return from_state, {"department": department.code, "co_departments": _department_codes(co)}


def event_redispatch(
    *,
    actor: User,
    event_id: int,
    department: Department,
    reason: str,
    co_departments: Sequence[Department] = (),
    expected_version: int | None = None,
) -> Event:
    """Redispatch (改派) an event already with a department to another one; a reason is required."""
    reason = require_reason(reason)
    co = list(dict.fromkeys(co_departments))
    with locked_event(event_id, expected_version, viewer=actor) as event:
        acting = _operator(actor, event, _("redispatch events"))
        check_departments(acting, event, department, co)
        if department == event.lead_department and event.state in WITH_DEPARTMENT:
            raise InvalidInput({"department": _("The event is already with %(dept)s.") % {"dept": department.name}})
        previous = event.lead_department.code if event.lead_department else None
        from_state = run_transition(event, event.to_redispatched, _("redispatch"))
        now = timezone.now()
        withdrawn = withdraw_pending(
            event, acting, now, DEPARTMENT_REQUESTS, _("The event went to another department.")
        )
        event.lead_department = department
        event.dispatched_at = now
        event.accepted_at = None
        event.co_departments.set(co)
        commit(
            event,
            acting,
            "redispatch",
            from_state=from_state,
            reason=reason,
            data={
                "department": department.code,
                "previous": previous,
                "co_departments": _department_codes(co),
                "withdrawn_requests": withdrawn,
            },
            at=now,
        )
    return event


def event_escalate(*, actor: User | None, event_id: int, reason: str, expected_version: int | None = None) -> Event:
    """Escalate (上报上级): hand a waiting event to the operators of the parent tier.

    `actor=None` is the SLA sweep escalating an event nobody dispatched in time.
    """
    reason = require_reason(reason)
    with locked_event(event_id, expected_version, viewer=actor) as event:
        acting = _operator(actor, event, _("escalate events"))
        previous: OrgUnit = event.owner_unit
        parent = previous.parent if previous.tier != Tier.CITY else None
        if parent is None:
            raise Conflict(_("The city is the top tier; there is nobody to escalate to."), code="top_tier")
        from_state = run_transition(event, event.to_escalated, _("escalate"))
        event.owner_unit = parent
        commit(
            event,
            acting,
            "escalate",
            from_state=from_state,
            reason=reason,
            data={"from_unit": previous.code, "to_unit": parent.code},
        )
    return event


def event_accept(
    *, actor: User | None, event_id: int, expected_version: int | None = None, acting: Acting | None = None
) -> Event:
    """Accept (签收): the lead department acknowledges; the handling clock starts."""
    with locked_event(event_id, expected_version, viewer=actor) as event:
        acting = require_handler(actor, event.lead_department, _("accept this event"), acting)
        from_state = run_transition(event, event.to_accepted, _("accept"))
        event.accepted_at = timezone.now()
        commit(event, acting, "accept", from_state=from_state, at=event.accepted_at)
    return event


def event_return(
    *,
    actor: User | None,
    event_id: int,
    reason: str,
    expected_version: int | None = None,
    acting: Acting | None = None,
) -> Event:
    """Return (退回): "not ours"; the event goes back to the dispatching tier with the reason."""
    reason = require_reason(reason)
    with locked_event(event_id, expected_version, viewer=actor) as event:
        acting = require_handler(actor, event.lead_department, _("return this event"), acting)
        from_state = run_transition(event, event.to_returned, _("return"))
        department = event.lead_department
        event.lead_department = None
        event.dispatched_at = None
        event.accepted_at = None
        event.return_count += 1
        withdrawn = withdraw_pending(
            event, acting, timezone.now(), DEPARTMENT_REQUESTS, _("The department returned the event.")
        )
        commit(
            event,
            acting,
            "return",
            from_state=from_state,
            reason=reason,
            data={"department": department.code if department else None, "withdrawn_requests": withdrawn},
        )
        event.co_departments.clear()
    return event


def event_submit_result(
    *,
    actor: User | None,
    event_id: int,
    note: str,
    photos: Iterable[File] = (),
    expected_version: int | None = None,
    acting: Acting | None = None,
) -> Event:
    """Submit the result (处置反馈): handled, with a note and after-photos. Only the lead department may."""
    note = require_reason(note, "note")
    processed = process_photos(photos, "photos")
    if not processed:
        raise InvalidInput({"photos": _("Add at least one photo of the result.")})
    with written_files() as written, locked_event(event_id, expected_version, viewer=actor) as event:
        if acting is not None:
            acting = require_handler(None, event.lead_department, _("submit a result"), acting)
        else:
            acting = department_grant(actor, "handle_event", event.lead_department)
        if acting is None:
            if actor is not None and event.co_departments.filter(pk__in=_user_department_ids(actor)).exists():
                raise NotPermitted(_("Co-handlers add notes; only the lead department submits the result."))
            raise NotPermitted(_("You may not submit a result: only the handling department may."))
        from_state = run_transition(event, event.to_handled, _("submit the result of"))
        now = timezone.now()
        event.handled_at = now
        event.result_note = note
        after = save_photos(event, processed, AttachmentKind.AFTER, acting, now, written)
        withdrawn = withdraw_pending(event, acting, now, DEPARTMENT_REQUESTS, _("The result was submitted."))
        commit(
            event,
            acting,
            "submit_result",
            from_state=from_state,
            reason=note,
            data={"photos": photo_data(after), "withdrawn_requests": withdrawn},
            at=now,
        )
    return event


def _user_department_ids(user: User) -> list[int]:
    return list(user.memberships.filter(department__isnull=False).values_list("department_id", flat=True))


def result_submitter_id(event: Event) -> int | None:
    """Who submitted the result now waiting for verification (处置反馈, or fixed on the spot)."""
    return (
        EventRecord.objects.filter(event=event, action__in=RESULT_ACTIONS)
        .order_by("-seq")
        .values_list("actor_id", flat=True)
        .first()
    )


def event_verify(
    *,
    actor: User,
    event_id: int,
    passed: bool,
    note: str = "",
    photos: Iterable[File] = (),
    expected_version: int | None = None,
) -> Event:
    """On-site verification (核查). Pass → verified; fail → rework (返工), back to the department."""
    note = require_reason(note, "note") if not passed else optional_text(note, "note")
    processed = process_photos(photos, "photos")
    with written_files() as written, locked_event(event_id, expected_version, viewer=actor) as event:
        acting = VERIFIER.require(actor, event, _("verify events"))
        if actor.pk is not None and result_submitter_id(event) == actor.pk:
            raise NotPermitted(
                _(
                    "You submitted this result yourself; the on-site check is made by someone else "
                    "(another grid worker of the grid or community, or an operator)."
                )
            )
        now = timezone.now()
        if passed:
            from_state = run_transition(event, event.to_verified, _("verify"))
            event.verified_at = now
            action = "verify_pass"
        else:
            if event.lead_department_id:
                from_state = run_transition(event, event.to_rework, _("send back for rework"))
            else:
                # Fixed on the spot but not really fixed: it now needs dispatching.
                from_state = run_transition(event, event.to_rework_undispatched, _("send back for rework"))
            event.rework_count += 1
            event.handled_at = None
            action = "verify_fail"
        shots = save_photos(event, processed, AttachmentKind.VERIFY, acting, now, written)
        commit(event, acting, action, from_state=from_state, reason=note, data={"photos": photo_data(shots)}, at=now)
    return event


def event_close(*, actor: User, event_id: int, note: str = "", expected_version: int | None = None) -> Event:
    """Close (结案) a verified event."""
    note = optional_text(note, "note")
    with locked_event(event_id, expected_version, viewer=actor) as event:
        acting = _operator(actor, event, _("close events"))
        from_state = run_transition(event, event.to_closed, _("close"))
        event.closed_at = timezone.now()
        commit(event, acting, "close", from_state=from_state, reason=note, at=event.closed_at)
    return event


def event_reopen(*, actor: User, event_id: int, reason: str, expected_version: int | None = None) -> Event:
    """Reopen (回访不满意): the reporter is unsatisfied after closure; back to dispatch."""
    reason = require_reason(reason)
    with locked_event(event_id, expected_version, viewer=actor) as event:
        acting = _operator(actor, event, _("reopen events"))
        from_state = run_transition(event, event.to_reopened, _("reopen"))
        previous = event.lead_department.code if event.lead_department else None
        event.reopen_count += 1
        event.lead_department = None
        event.dispatched_at = event.accepted_at = event.handled_at = event.verified_at = event.closed_at = None
        event.self_handled = False
        commit(event, acting, "reopen", from_state=from_state, reason=reason, data={"previous_department": previous})
        event.co_departments.clear()
    return event


def event_urge(*, actor: User, event_id: int, note: str, expected_version: int | None = None) -> Event:
    """Urge (督办): supervisor pressure on an open event; recorded and notified, no state change."""
    note = require_reason(note, "note")
    with locked_event(event_id, expected_version, viewer=actor) as event:
        acting = SUPERVISOR.require(actor, event, _("urge events"))
        if event.state not in OPEN_STATES:
            raise Conflict(_("Event %(code)s is no longer open.") % {"code": event.code}, code="invalid_transition")
        event.urge_count += 1
        commit(event, acting, "urge", from_state=event.state, reason=note)
    return event


def event_merge(
    *, actor: User, event_id: int, into_event_id: int, reason: str = "", expected_version: int | None = None
) -> Event:
    """Merge (合并) a duplicate into another open event; both keep their histories.

    `expected_version` is the duplicate's: the version of the page the operator merged from.
    """
    reason = optional_text(reason, "reason") or _("Duplicate report")
    if int(event_id) == int(into_event_id):
        raise InvalidInput({"into": _("An event cannot be merged into itself.")})
    # Lock both rows, lower id first, so two opposite merges cannot deadlock.
    first, second = sorted([int(event_id), int(into_event_id)])
    versions = {int(event_id): expected_version, int(into_event_id): None}
    with (
        locked_event(first, versions[first], viewer=actor) as a,
        locked_event(second, versions[second], viewer=actor) as b,
    ):
        duplicate, target = (a, b) if a.pk == int(event_id) else (b, a)
        acting = _operator(actor, duplicate, _("merge events"))
        if target.state not in OPEN_STATES:
            raise Conflict(_("Event %(code)s is not open; merge into an open event.") % {"code": target.code})
        if acting.unit is not None and not target.area_path.startswith(acting.unit.path):
            raise NotPermitted(_("Event %(code)s is outside your jurisdiction.") % {"code": target.code})
        from_state = run_transition(duplicate, duplicate.to_merged, _("merge"))
        duplicate.merged_into = target
        commit(duplicate, acting, "merge", from_state=from_state, reason=reason, data={"into": target.code})
        target.version += 1
        target.save()
        record(target, acting, "absorb", from_state=target.state, reason=reason, data={"duplicate": duplicate.code})
    return duplicate


def event_add_note(
    *, actor: User, event_id: int, note: str, photos: Iterable[File] = (), expected_version: int | None = None
) -> Event:
    """A note (and photos) from the lead or a co-handling department (协办), no state change."""
    note = require_reason(note, "note")
    processed = process_photos(photos, "photos")
    with written_files() as written, locked_event(event_id, expected_version, viewer=actor) as event:
        acting = HANDLER.acting(actor, event)
        if acting is None:
            raise NotPermitted(_("Only the lead and co-handling departments add notes."))
        if event.state not in WITH_DEPARTMENT:
            raise Conflict(_("Notes are added while the event is with the departments."), code="invalid_transition")
        now = timezone.now()
        shots = save_photos(event, processed, AttachmentKind.NOTE, acting, now, written)
        commit(event, acting, "note", from_state=event.state, reason=note, data={"photos": photo_data(shots)}, at=now)
    return event


__all__ = [
    "event_accept",
    "event_add_note",
    "event_close",
    "event_dispatch",
    "event_escalate",
    "event_merge",
    "event_redispatch",
    "event_reopen",
    "event_return",
    "event_submit_result",
    "event_urge",
    "event_verify",
    "result_submitter_id",
]
