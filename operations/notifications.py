"""In-page notifications: who hears about what, delivered from the outbox.

Operators hear about events waiting at their own tier (not every event in
the city); supervisors at the nearest tier that has any; handlers about
their department's events.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import DepartmentUserObjectPermission, OrgUnit, OrgUnitUserObjectPermission
from dispatch.models import Notification, OutboxMessage, SlaStep
from operations.outbox import handles


def _unit_holders(codename: str, unit: OrgUnit) -> set[int]:
    return set(
        OrgUnitUserObjectPermission.objects.filter(permission__codename=codename, content_object=unit).values_list(
            "user_id", flat=True
        )
    )


def _nearest_holders(codename: str, unit: OrgUnit) -> set[int]:
    """Holders at the unit, else at its parent, and so on up to the city."""
    rows = OrgUnitUserObjectPermission.objects.filter(
        permission__codename=codename, content_object__code__in=unit.depth_codes
    ).values_list("user_id", "content_object__tier")
    by_tier: dict[int, set[int]] = {}
    for user_id, tier in rows:
        by_tier.setdefault(tier, set()).add(user_id)
    return by_tier[max(by_tier)] if by_tier else set()


def _department_holders(codes) -> set[int]:
    codes = [c for c in codes if c]
    return set(
        DepartmentUserObjectPermission.objects.filter(
            permission__codename="handle_event", content_object__code__in=codes
        ).values_list("user_id", flat=True)
    )


def notification_text(action: str, *, code: str, step: str | None = None, reason: str = "") -> str:
    """The notification's sentence in the active language: written once at delivery (Notification.text,
    for the API) and said again in the reader's language by the web page."""
    texts = {
        "file": _("New event %(code)s waits for dispatch"),
        "return": _("Event %(code)s was returned by the department"),
        "escalate": _("Event %(code)s was escalated to your tier"),
        "verify_pass": _("Event %(code)s passed verification and can be closed"),
        "dispatch": _("Event %(code)s was dispatched to your department"),
        "redispatch": _("Event %(code)s was dispatched to your department"),
        "verify_fail": _("Event %(code)s failed verification: rework"),
        "submit_result": _("Event %(code)s is handled and waits for verification"),
        "self_handle": _("Event %(code)s is handled and waits for verification"),
        "urge": _("Supervisor urges event %(code)s (督办)"),
        "sla.yellow": _("Event %(code)s: the %(step)s time limit is nearly used up"),
        "sla.red": _("Event %(code)s: the %(step)s time limit has passed"),
        "warning_red": _("Event %(code)s: its sensor warning rose to red (红色预警)"),
    }
    if action == "reopen":
        if reason:
            return _("Event %(code)s is to be rehandled (重办): %(reason)s") % {"code": code, "reason": reason}
        return _("Event %(code)s is to be rehandled (重办): the reporter is not satisfied") % {"code": code}
    if action.endswith("_request"):
        return _("Event %(code)s: a request waits for approval") % {"code": code}
    if action not in texts:
        return ""
    step_label = str(SlaStep(step).label) if step in SlaStep.values else (step or "")
    return texts[action] % {"code": code, "step": step_label}


def record_reason(event, payload: dict) -> str:
    """The reason typed with the action (the reopen's), from the history record the message names."""
    seq = payload.get("record")
    if seq is None:
        return ""
    return event.records.filter(seq=seq).values_list("reason", flat=True).first() or ""


def _dispatched_at_intake(event) -> bool:
    """True when the record right after the filing is the system's dispatch (an auto rule)."""
    return event.records.filter(seq=2, action="dispatch", actor__isnull=True).exists()


def recipients(message: OutboxMessage) -> tuple[set[int], str]:
    event = message.event
    action = message.payload.get("action", message.topic.removeprefix("event."))
    step = message.payload.get("step")
    reason = record_reason(event, message.payload) if action == "reopen" else ""
    text = notification_text(action, code=event.code, step=step, reason=reason)
    # Departments as they were when the change happened, not as they are at delivery.
    lead, co = message.payload.get("lead"), message.payload.get("co", [])
    if action == "file" and _dispatched_at_intake(event):
        # A routing rule dispatched it as it was filed: nothing waits for the operators.
        return set(), ""
    if action in ("file", "return", "escalate", "reopen", "verify_pass"):
        return _unit_holders("operate_event", event.owner_unit), text
    if action in ("dispatch", "redispatch"):
        return _department_holders([lead, *co]), text
    if action == "verify_fail":
        return _department_holders([lead]), text
    if action in ("submit_result", "self_handle"):
        return _nearest_holders("verify_event", event.grid), text
    if action == "urge":
        return _department_holders([lead]) | _unit_holders("operate_event", event.owner_unit), text
    if action in ("sla.yellow", "sla.red"):
        users = _unit_holders("operate_event", event.owner_unit) | _nearest_holders("supervise_event", event.owner_unit)
        if step in ("accept", "handle"):
            users |= _department_holders([lead])
        return users, text
    if action == "warning_red":
        users = (
            _nearest_holders("supervise_event", event.owner_unit)
            | _unit_holders("operate_event", event.owner_unit)
            | _department_holders([lead, *co])
        )
        return users, text
    if action.endswith("_request"):
        return _nearest_holders("supervise_event", event.owner_unit), text
    return set(), ""


@handles(
    "event.file",
    "event.dispatch",
    "event.redispatch",
    "event.return",
    "event.escalate",
    "event.reopen",
    "event.submit_result",
    "event.self_handle",
    "event.verify_pass",
    "event.verify_fail",
    "event.urge",
    "event.extension_request",
    "event.suspension_request",
    "event.invalidation_request",
    "sla.yellow",
    "sla.red",
    "event.warning_red",
)
def notify(message: OutboxMessage) -> None:
    if message.event is None:
        return
    users, text = recipients(message)
    kind = message.payload.get("action", message.topic)
    for user_id in sorted(users):
        # The unique (user, message) constraint makes a redelivered message harmless.
        try:
            with transaction.atomic():
                Notification.objects.create(
                    user_id=user_id, event=message.event, kind=kind, text=text[:300], source_message=message
                )
        except IntegrityError:
            continue


@handles("vitals.nodata")
def notify_device_fault(message: OutboxMessage) -> None:
    """A silent sensor (no data): its owner department's handlers hear of it; no event, no city alarm."""
    department = message.payload.get("department")
    if not department:
        return
    text = _("Sensor %(sensor)s has sent nothing since %(since)s: check the device") % {
        "sensor": message.payload.get("sensor"),
        "since": message.payload.get("silent_since"),
    }
    for user_id in sorted(_department_holders([department])):
        try:
            with transaction.atomic():
                Notification.objects.create(
                    user_id=user_id, kind="vitals.nodata", text=text[:300], source_message=message
                )
        except IntegrityError:
            continue
