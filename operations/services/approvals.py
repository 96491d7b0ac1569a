"""Requests a supervisor decides: extension (延期), suspension (挂账), invalidation (作废).

Plus resume (恢复) from suspension.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.errors import Conflict, InvalidInput, NotFound
from dispatch.sla import apply_extension, ensure_before_deadline
from incidents.models import (
    INVALIDATABLE_STATES,
    OPEN_STATES,
    ApprovalRequest,
    Event,
    RequestKind,
    RequestStatus,
    State,
)
from incidents.permissions import OPERATOR, SUPERVISOR, SUPERVISOR_OR_LEAD, Acting, require_handler
from operations.services._base import (
    commit,
    locked_event,
    optional_text,
    require_reason,
    run_transition,
    withdraw_pending,
)

MAX_EXTENSION_HOURS = 24 * 30


def _open_request(event: Event, acting: Acting, kind: str, reason: str, data: dict) -> ApprovalRequest:
    now = timezone.now()
    # The caller holds the event row lock, so this check cannot race; the
    # partial unique index stays as the database's own guarantee.
    if ApprovalRequest.objects.filter(event=event, kind=kind, status=RequestStatus.PENDING).exists():
        raise Conflict(
            _("A request for %(kind)s is already waiting for a decision on this event.")
            % {"kind": RequestKind(kind).label},
            code="request_pending",
        )
    request = ApprovalRequest.objects.create(
        event=event,
        kind=kind,
        reason=reason,
        data=data,
        requested_by=acting.user,
        requested_by_department=acting.department,
        requested_at=now,
    )
    commit(
        event,
        acting,
        f"{kind}_request",
        from_state=event.state,
        reason=reason,
        data={"request": request.pk, **data},
        at=now,
    )
    return request


def extension_request(
    *,
    actor: User | None,
    event_id: int,
    hours: int | str,  # as the channel received it; checked here
    reason: str,
    acting: Acting | None = None,
    expected_version: int | None = None,
) -> ApprovalRequest:
    """The lead department asks for more time (延期) before the deadline."""
    reason = require_reason(reason)
    try:
        hours = int(hours)
    except (TypeError, ValueError):
        raise InvalidInput({"hours": _("Enter a whole number of hours.")}) from None
    if not 1 <= hours <= MAX_EXTENSION_HOURS:
        raise InvalidInput({"hours": _("Between 1 and %(max)d hours.") % {"max": MAX_EXTENSION_HOURS}})
    with locked_event(event_id, expected_version, viewer=actor) as event:
        acting = require_handler(actor, event.lead_department, _("ask for an extension"), acting)
        if event.state not in (State.DISPATCHED, State.ACCEPTED):
            raise Conflict(_("Extensions are asked for while the event is being handled."), code="invalid_transition")
        ensure_before_deadline(event)
        return _open_request(event, acting, RequestKind.EXTENSION, reason, {"hours": hours})


def suspension_request(
    *,
    actor: User | None,
    event_id: int,
    reason: str,
    until: str = "",
    acting: Acting | None = None,
    expected_version: int | None = None,
) -> ApprovalRequest:
    """The lead department (a handler, or its own system) asks to suspend (挂账) work that cannot
    finish in time, before the deadline: a suspension is planned, not an excuse after the fact."""
    reason = require_reason(reason)
    until = optional_text(until, "until", 32)
    with locked_event(event_id, expected_version, viewer=actor) as event:
        acting = require_handler(actor, event.lead_department, _("ask for a suspension"), acting)
        if event.state != State.ACCEPTED:
            raise Conflict(_("Only an accepted event can be suspended."), code="invalid_transition")
        ensure_before_deadline(event)
        return _open_request(event, acting, RequestKind.SUSPENSION, reason, {"until": until} if until else {})


def invalidation_request(
    *, actor: User, event_id: int, reason: str, expected_version: int | None = None
) -> ApprovalRequest:
    """An operator proposes to invalidate (作废) a report that is not a real case."""
    reason = require_reason(reason)
    with locked_event(event_id, expected_version, viewer=actor) as event:
        acting = OPERATOR.require(actor, event, _("propose invalidation"))
        if event.state not in INVALIDATABLE_STATES:
            raise Conflict(
                _("Event %(code)s can no longer be invalidated.") % {"code": event.code}, code="invalid_transition"
            )
        return _open_request(event, acting, RequestKind.INVALIDATION, reason, {})


def request_decide(
    *, actor: User, request_id: int, approve: bool, note: str = "", expected_version: int | None = None
) -> ApprovalRequest:
    """A supervisor approves or refuses a pending request; refusing needs a reason.

    `expected_version` is the event's, as the supervisor saw it.
    """
    note = optional_text(note, "note") if approve else require_reason(note, "note")
    try:
        event_id = ApprovalRequest.objects.values_list("event_id", flat=True).get(pk=request_id)
    except (ApprovalRequest.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such request.")) from None
    with locked_event(event_id, expected_version, viewer=actor) as event:
        request = ApprovalRequest.objects.select_for_update().get(pk=request_id)
        acting = SUPERVISOR.require(actor, event, _("decide requests"))
        if request.status != RequestStatus.PENDING:
            raise Conflict(_("This request was already decided."), code="already_decided")
        now = timezone.now()
        request.status = RequestStatus.APPROVED if approve else RequestStatus.REFUSED
        request.decided_by, request.decided_at, request.decision_note = actor, now, note
        request.save()
        data = {"request": request.pk, **request.data}
        if not approve:
            commit(event, acting, f"{request.kind}_refuse", from_state=event.state, reason=note, data=data, at=now)
            return request
        if request.kind == RequestKind.EXTENSION:
            if event.state not in OPEN_STATES:
                raise Conflict(_("Event %(code)s is no longer open.") % {"code": event.code}, code="invalid_transition")
            data.update(apply_extension(event, hours=request.data["hours"], at=now))
            event.extension_count += 1
            commit(event, acting, "extension_approve", from_state=event.state, reason=note, data=data, at=now)
        elif request.kind == RequestKind.SUSPENSION:
            from_state = run_transition(event, event.to_suspended, _("suspend"))
            event.suspension_count += 1
            commit(event, acting, "suspend", from_state=from_state, reason=note or request.reason, data=data, at=now)
        else:
            from_state = run_transition(event, event.to_invalidated, _("invalidate"))
            data["withdrawn_requests"] = withdraw_pending(
                event, acting, now, ("extension", "suspension", "invalidation"), _("The event was invalidated.")
            )
            commit(event, acting, "invalidate", from_state=from_state, reason=note or request.reason, data=data, at=now)
    return request


def event_resume(*, actor: User, event_id: int, note: str = "", expected_version: int | None = None) -> Event:
    """Resume (恢复) a suspended event: its handling clock runs again."""
    note = optional_text(note, "note")
    with locked_event(event_id, expected_version, viewer=actor) as event:
        acting = SUPERVISOR_OR_LEAD.require(actor, event, _("resume this event"))
        from_state = run_transition(event, event.to_resumed, _("resume"))
        commit(event, acting, "resume", from_state=from_state, reason=note)
    return event


def event_invalidate(*, actor: User, event_id: int, reason: str, expected_version: int | None = None) -> Event:
    """A supervisor invalidates directly: the request is opened and approved in one transaction."""
    reason = require_reason(reason)
    with transaction.atomic():
        request = ApprovalRequest.objects.filter(
            event_id=event_id, kind=RequestKind.INVALIDATION, status=RequestStatus.PENDING
        ).first()
        if request is None:
            with locked_event(event_id, expected_version, viewer=actor) as event:
                acting = SUPERVISOR.require(actor, event, _("invalidate events"))
                if event.state not in INVALIDATABLE_STATES:
                    raise Conflict(
                        _("Event %(code)s can no longer be invalidated.") % {"code": event.code},
                        code="invalid_transition",
                    )
                request = _open_request(event, acting, RequestKind.INVALIDATION, reason, {})
            expected_version = None  # the version moved with the request just opened, under our lock
        request_decide(actor=actor, request_id=request.pk, approve=True, note=reason, expected_version=expected_version)
    return Event.objects.get(pk=event_id)
