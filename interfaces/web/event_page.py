"""What the event page says beyond the stored facts: the time limits grouped by round (first
handling, rework N, reopen N; the current round first), which results a failed verification
superseded, and history entries that name departments and new deadlines."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from accounts.models import Department
from dispatch.models import SlaClock

RESULT_ACTIONS = ("submit_result", "self_handle")


@dataclass
class Round:
    label: str
    started_at: datetime | None
    clocks: list[SlaClock] = field(default_factory=list)
    current: bool = False


def clock_rounds(clocks: list[SlaClock], records: list) -> list[Round]:
    """Clocks in rounds: a failed verification opens a rework round, a reopen (重办) a new round."""
    rounds = [Round(_("first handling"), None)]
    reworks = reopens = 0
    for r in records:
        if r.action == "verify_fail":
            reworks += 1
            rounds.append(Round(_("rework %(n)d") % {"n": reworks}, r.created_at))
        elif r.action == "reopen":
            reopens += 1
            rounds.append(Round(_("reopen %(n)d (重办)") % {"n": reopens}, r.created_at))
    for clock in clocks:
        target = rounds[0]
        for candidate in rounds[1:]:
            if candidate.started_at is not None and clock.started_at >= candidate.started_at:
                target = candidate
        target.clocks.append(clock)
    kept = [r for r in rounds if r.clocks]
    if kept:
        kept[-1].current = True
    return list(reversed(kept))


def _when(value: object) -> str:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        return ""
    return timezone.localtime(parsed).strftime("%Y-%m-%d %H:%M")


def annotate_history(records: list) -> None:
    """Set `detail` (departments from → to, the new deadline) and `superseded` on each record."""
    codes = set()
    for r in records:
        data = getattr(r, "shown_data", None) or {}
        for key in ("department", "previous", "previous_department"):
            if isinstance(data.get(key), str):
                codes.add(data[key])
    names = dict(Department.objects.filter(code__in=codes).values_list("code", "name")) if codes else {}
    last_fail = max((i for i, r in enumerate(records) if r.action == "verify_fail"), default=-1)
    for i, r in enumerate(records):
        data = getattr(r, "shown_data", None) or {}
        detail = ""
        if r.action == "redispatch":
            detail = _("from %(old)s to %(new)s") % {
                "old": names.get(data.get("previous") or "", "—"),
                "new": names.get(data.get("department") or "", "—"),
            }
        elif r.action == "dispatch" and data.get("department"):
            detail = _("to %(dept)s") % {"dept": names.get(data["department"], data["department"])}
        elif r.action == "extension_approve":
            moved = data.get("moved") or {}
            step = moved.get("handle") or moved.get("accept") or moved.get("overall") or {}
            if step.get("to"):
                detail = _("new deadline %(due)s (+%(hours)s h)") % {
                    "due": _when(step["to"]),
                    "hours": data.get("granted_hours") or data.get("hours") or "?",
                }
        r.detail = detail
        # A result a later failed verification sent back is not the event's result any more.
        r.superseded = r.action in RESULT_ACTIONS and i < last_fail


def result_superseded(records: list) -> bool:
    """True when the latest result on record was sent back by a failed verification."""
    for r in reversed(records):
        if r.action in RESULT_ACTIONS:
            return False
        if r.action == "verify_fail":
            return True
    return False
