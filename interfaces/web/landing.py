"""After an action on the event page: say what happened, specifically, and go where the user works
next (the queue an operator dispatches from, the inbox a handler works through, the verification
list), never a bare "done"."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.models import ApprovalRequest, Event, RequestKind, RequestStatus, State

# Where each action's user goes next, when they can still see the event.
NEXT_PAGE = {
    "dispatch": "console",
    "redispatch": "console",
    "escalate": "console",
    "close": "console",
    "invalidate": "console",
    "merge": "console",
    "return": "inbox",
    "submit-result": "inbox",
    "verify": "verify-queue",
}


def _dept(event: Event) -> str:
    return event.lead_department.name if event.lead_department_id else "—"


def action_message(name: str, before: Event, after: Event) -> str:
    """What the action did, naming the department, unit or state it led to."""
    code = after.code
    if name == "dispatch":
        text = _("Dispatched to %(dept)s.") % {"dept": _dept(after)}
    elif name == "redispatch":
        text = _("Redispatched from %(old)s to %(dept)s.") % {"old": _dept(before), "dept": _dept(after)}
    elif name == "escalate":
        text = _("Escalated to %(unit)s.") % {"unit": after.owner_unit.name}
    elif name == "accept":
        text = _("Accepted; the handling time limit runs.")
    elif name == "return":
        text = _("Returned; waiting for the operations centre to dispatch it again.")
    elif name == "extension-request":
        text = _("Extension asked for; waiting for a supervisor's decision.")
    elif name == "suspension-request":
        text = _("Suspension asked for; waiting for a supervisor's decision.")
    elif name == "invalidation-request":
        text = _("Invalidation proposed; waiting for a supervisor's decision.")
    elif name == "submit-result":
        text = _("Result submitted; waiting for the on-site check.")
    elif name == "note":
        text = _("Note added.")
    elif name == "resume":
        text = _("Resumed; the time limit runs again.")
    elif name == "verify" and after.state == State.VERIFIED:
        text = _("Verified on site; waiting for closure.")
    elif name == "verify" and after.state == State.REPORTED:
        text = _("Verification failed; back to the operations centre to dispatch.")
    elif name == "verify":
        text = _("Verification failed; sent back to %(dept)s for rework.") % {"dept": _dept(after)}
    elif name == "close":
        text = _("Closed.")
    elif name == "reopen":
        text = _("Reopened for rehandling (重办); waiting for dispatch.")
    elif name == "urge":
        text = _("Urged; %(dept)s was told.") % {"dept": _dept(after)}
    elif name == "invalidate":
        text = _("Invalidated.")
    elif name == "merge":
        target = after.merged_into.code if after.merged_into_id else "—"
        text = _("Merged into %(code)s.") % {"code": target}
    else:
        text = _("Recorded: the event is now %(state)s.") % {"state": after.get_state_display()}
    return f"{code}: {text}"


def next_page(name: str, event: Event) -> str:
    """The URL to land on: the user's next work for this action (the action's own role has that
    page: dispatching means operating, returning means handling), else the event page."""
    target = NEXT_PAGE.get(name)
    return reverse(target) if target else reverse("event-detail", args=[event.pk])


def decision_message(request: ApprovalRequest, event: Event) -> str:
    """What a supervisor's decision did: the new deadline of an approved extension, and so on."""
    if request.status != RequestStatus.APPROVED:
        text = _("Refused: %(kind)s.") % {"kind": request.get_kind_display()}
    elif request.kind == RequestKind.EXTENSION:
        due = Event.objects.values_list("due_at", flat=True).get(pk=event.pk)
        shown = timezone.localtime(due).strftime("%Y-%m-%d %H:%M") if due else "—"
        text = _("Extension approved; the next deadline is %(due)s.") % {"due": shown}
    elif request.kind == RequestKind.SUSPENSION:
        text = _("Suspension approved; the time limits are paused.")
    else:
        text = _("Invalidated.")
    return f"{event.code}: {text}"
