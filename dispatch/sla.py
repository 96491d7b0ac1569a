"""The SLA engine: clocks per event and step, pauses, extensions, traffic lights.

The lifecycle services call `on_action()` inside their transaction after
every change; the sweep (operations.sweep) fires thresholds. All arithmetic
goes through dispatch.worktime.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Conflict
from core.process_cache import ProcessCache
from dispatch.calendar import Calendar, calendar_for
from dispatch.models import Light, SlaClock, SlaPolicy, SlaStep, TimeUnit
from dispatch.worktime import add_minutes, minutes_between, unknown_day_between
from incidents.models import OPEN_STATES, Category, Event, State

logger = logging.getLogger(__name__)

# Which clocks each lifecycle action stops and starts.
STOP = "stop"
START = "start"
PAUSE = "pause"
RESUME = "resume"
ALL_STEPS = [s.value for s in SlaStep]
ACTIONS: dict[str, list[tuple[str, str]]] = {
    "file": [(START, SlaStep.DISPATCH), (START, SlaStep.OVERALL)],
    "self_handle": [(STOP, SlaStep.DISPATCH), (START, SlaStep.VERIFY)],
    "dispatch": [(STOP, SlaStep.DISPATCH), (START, SlaStep.ACCEPT)],
    "redispatch": [(STOP, SlaStep.ACCEPT), (STOP, SlaStep.HANDLE), (START, SlaStep.ACCEPT)],
    # The new tier gets its own dispatch limit; otherwise the sweep would escalate again at once.
    "escalate": [(STOP, SlaStep.DISPATCH), (START, SlaStep.DISPATCH)],
    "accept": [(STOP, SlaStep.ACCEPT), (START, SlaStep.HANDLE)],
    "return": [(STOP, SlaStep.ACCEPT), (STOP, SlaStep.HANDLE), (START, SlaStep.DISPATCH)],
    "suspend": [(PAUSE, SlaStep.HANDLE), (PAUSE, SlaStep.OVERALL)],
    "resume": [(RESUME, SlaStep.HANDLE), (RESUME, SlaStep.OVERALL)],
    "submit_result": [(STOP, SlaStep.HANDLE), (START, SlaStep.VERIFY)],
    "verify_pass": [(STOP, SlaStep.VERIFY), (START, SlaStep.CLOSE)],
    # Rework goes back to the department; a failed on-the-spot fix goes back to dispatch (see on_action).
    "verify_fail": [(STOP, SlaStep.VERIFY), (START, SlaStep.HANDLE)],
    "close": [(STOP, SlaStep.CLOSE), (STOP, SlaStep.OVERALL)],
    "invalidate": [(STOP, s) for s in ALL_STEPS],
    "merge": [(STOP, s) for s in ALL_STEPS],
    "reopen": [(START, SlaStep.DISPATCH), (START, SlaStep.OVERALL)],
}


def _policies_by_step() -> dict[str, list[SlaPolicy]]:
    by_step: dict[str, list[SlaPolicy]] = {}
    for policy in SlaPolicy.objects.all():
        by_step.setdefault(policy.step, []).append(policy)
    return by_step


# Read at every transition, edited a few times a year.
_policies: ProcessCache[dict[str, list[SlaPolicy]]] = ProcessCache("sla-policies", _policies_by_step)


def forget_cached_policies(**_kwargs: object) -> None:
    """Signal receiver: a policy changed (connected in DispatchConfig.ready)."""
    _policies.invalidate()


def policy_for(category: Category, urgency: int, step: str) -> SlaPolicy | None:
    """The most specific policy: subclass > major class > any; named urgency > any."""
    categories = {category.pk, category.parent_id, None}
    candidates = [
        p for p in _policies.get().get(step, []) if p.category_id in categories and p.urgency in (urgency, None)
    ]

    def rank(policy: SlaPolicy) -> tuple[int, int]:
        level = 0 if policy.category_id == category.pk else 1 if policy.category_id else 2
        return (level, 0 if policy.urgency is not None else 1)

    found = sorted(candidates, key=rank)
    return found[0] if found else None


def _limit_minutes(policy: SlaPolicy, cal: Calendar) -> tuple[int, bool]:
    if policy.unit == TimeUnit.NATURAL_HOURS:
        return int(policy.limit * 60), False
    if policy.unit == TimeUnit.WORKING_DAYS:
        return int(policy.limit * cal.minutes_per_day), True
    return int(policy.limit * 60), True


def _flag_unknown_calendar(clock: SlaClock, cal: Calendar) -> None:
    """Flag (and log) a deadline computed over days whose holidays the calendar does not know."""
    unknown = unknown_day_between(clock.started_at, clock.due_at, cal, clock.working_time)
    clock.calendar_unknown = unknown is not None
    if unknown is not None:
        logger.warning(
            "SLA clock %s (event %s, %s) is due %s, computed over days calendar %r does not know from %s on "
            "(Monday-Friday assumed): enter that year's holidays (calendar_import FILE), then sla_recompute",
            clock.pk or "new", clock.event_id, clock.step, clock.due_at.isoformat(), cal.name, unknown.isoformat(),
        )  # fmt: skip


def _schedule(clock: SlaClock, cal: Calendar, now: datetime) -> None:
    """Recompute due, yellow and the next threshold from start, limit, pauses and extension."""
    budget = clock.limit_minutes + clock.extension_minutes
    clock.due_at = add_minutes(clock.started_at, budget + clock.paused_minutes, cal, clock.working_time)
    clock.yellow_at = add_minutes(
        clock.started_at, float(Decimal(budget) * clock.yellow_ratio) + clock.paused_minutes, cal, clock.working_time
    )
    _flag_unknown_calendar(clock, cal)
    if clock.stopped_at is None and clock.breached_at is None:
        # A deadline moved past now (extension, pause, recompute) before it was missed is a new
        # threshold: arm it again. A recorded breach is never erased: an extension approved
        # after the deadline moves the time left for the work, not the fact that it was late.
        if clock.due_at > now:
            clock.red_notified = False
        if clock.yellow_at > now:
            clock.yellow_notified = False
    _refresh_light(clock, now)


def _refresh_light(clock: SlaClock, now: datetime) -> None:
    if clock.stopped_at is None and clock.paused_at is None:
        if clock.breached_at is not None or now >= clock.due_at:
            clock.light = Light.RED
        elif now >= clock.yellow_at:
            clock.light = Light.YELLOW
        else:
            clock.light = Light.GREEN
    # The sweep acts on the first threshold whose notification has not gone out.
    if clock.stopped_at is not None or clock.paused_at is not None:
        clock.next_check_at = None
    elif clock.breached_at is not None and not clock.red_notified:
        clock.next_check_at = clock.breached_at
    elif not clock.yellow_notified and clock.yellow_at < clock.due_at:
        clock.next_check_at = clock.yellow_at
    elif not clock.red_notified:
        clock.next_check_at = clock.due_at
    else:
        clock.next_check_at = None


def record_missed_deadline(clock: SlaClock, now: datetime) -> None:
    """Record a breach that happened before anyone noticed, before a change moves or pauses the
    deadline (an extension approved late, a suspension, a recompute): the sweep may not have run."""
    if clock.stopped_at is None and clock.paused_at is None and clock.breached_at is None and clock.due_at <= now:
        clock.breached_at = clock.due_at


def _new_clock(event: Event, step: str, at: datetime) -> SlaClock | None:
    """A clock for `step` started at `at`, scheduled but not saved (None: no policy applies)."""
    policy = policy_for(event.category, event.urgency, step)
    if policy is None:
        return None
    cal = calendar_for(event.grid)
    limit, working = _limit_minutes(policy, cal)
    clock = SlaClock(
        event=event,
        step=step,
        policy=policy,
        working_time=working,
        limit_minutes=limit,
        yellow_ratio=policy.yellow_ratio,
        started_at=at,
    )
    clock.original_due_at = add_minutes(at, limit, cal, working)
    _schedule(clock, cal, at)
    return clock


def start_clock(event: Event, step: str, at: datetime) -> SlaClock | None:
    clock = _new_clock(event, step, at)
    if clock is not None:
        clock.save()
    return clock


def _running(event: Event, step: str) -> SlaClock | None:
    return SlaClock.objects.filter(event=event, step=step, stopped_at__isnull=True).first()


def _stop(clock: SlaClock, event: Event, at: datetime) -> None:
    if clock.paused_at is not None:
        _resume(clock, at)
    clock.stopped_at = at
    cal = calendar_for(event.grid)
    clock.elapsed_minutes = max(
        minutes_between(clock.started_at, at, cal, clock.working_time) - clock.paused_minutes, 0
    )
    if at > clock.due_at and clock.breached_at is None:
        clock.breached_at = clock.due_at
    clock.light = Light.RED if clock.breached_at else clock.light
    clock.next_check_at = None


def stop_clock(event: Event, step: str, at: datetime) -> None:
    clock = _running(event, step)
    if clock is None:
        return
    _stop(clock, event, at)
    clock.save()


def plan_new_event(event: Event, actions: Sequence[str], at: datetime) -> list[SlaClock]:
    """The clocks of an event not written yet, after `actions` at `at` (e.g. file, then dispatch).

    Intake's hot path: the same starts and stops as `on_action`, in memory, so the caller inserts
    the clocks in one statement and the event row with its due time and light already set (no
    clock is read back, no event UPDATE). Only starting and stopping actions apply to a new event.
    """
    clocks: list[SlaClock] = []
    for action in actions:
        if action in ("submit_result", "close", "reopen"):  # their outcomes read stored clocks
            raise ValueError(f"{action} does not apply to a new event")
        for op, step in ACTIONS[action]:
            if op == START:
                if (clock := _new_clock(event, step, at)) is not None:
                    clocks.append(clock)
            elif op == STOP:
                running = next((c for c in clocks if c.step == step and c.stopped_at is None), None)
                if running is not None:
                    _stop(running, event, at)
            else:
                raise ValueError(f"{action} pauses or resumes clocks: not for a new event")
    event.due_at, event.light = _due_and_light([c for c in clocks if c.stopped_at is None])
    return clocks


def _pause(clock: SlaClock, at: datetime) -> None:
    if clock.paused_at is None:
        record_missed_deadline(clock, at)
        clock.paused_at = at
        clock.next_check_at = None
        clock.save()


def _resume(clock: SlaClock, at: datetime) -> None:
    if clock.paused_at is None:
        return
    cal = calendar_for(clock.event.grid)
    clock.paused_minutes += round(minutes_between(clock.paused_at, at, cal, clock.working_time))
    clock.pauses = [*clock.pauses, {"from": clock.paused_at.isoformat(), "to": at.isoformat()}]
    clock.paused_at = None
    _schedule(clock, cal, at)


def on_action(event: Event, action: str, at: datetime) -> None:
    """Apply a lifecycle action to the event's clocks, then refresh the event's due time and light."""
    operations = ACTIONS.get(action, [])
    if action == "verify_fail" and event.state == "reported":
        operations = [(STOP, SlaStep.VERIFY), (START, SlaStep.DISPATCH)]
    for op, step in operations:
        if op == STOP:
            stop_clock(event, step, at)
        elif op == START:
            start_clock(event, step, at)
        elif op == PAUSE:
            if clock := _running(event, step):
                _pause(clock, at)
        elif op == RESUME and (clock := _running(event, step)):
            _resume(clock, at)
            clock.save()
    if action in ACTIONS:
        sync_event(event, at)
    _record_outcome(event, action)


def _record_outcome(event: Event, action: str) -> None:
    """Keep the report's per-event facts: handling time, and whether it closed on time."""
    updates: dict[str, object] = {}
    if action == "submit_result":
        elapsed = SlaClock.objects.filter(event=event, step=SlaStep.HANDLE, stopped_at__isnull=False)
        updates["handling_minutes"] = sum(
            c.elapsed_minutes or 0 for c in elapsed.filter(started_at__gte=_cycle_start(event))
        )
    elif action == "close":
        overall = SlaClock.objects.filter(event=event, step=SlaStep.OVERALL).order_by("-id").first()
        updates["closed_on_time"] = overall is None or overall.breached_at is None
    elif action == "reopen":
        updates["closed_on_time"] = None
    if updates:
        for field, value in updates.items():
            setattr(event, field, value)
        type(event).objects.filter(pk=event.pk).update(**updates)


def _cycle_start(event: Event) -> datetime:
    """Start of the current loop: the latest overall clock (a reopen starts a new one)."""
    overall = SlaClock.objects.filter(event=event, step=SlaStep.OVERALL).order_by("-id").first()
    return overall.started_at if overall else event.reported_at


def _due_and_light(running: Sequence[SlaClock]) -> tuple[datetime | None, str]:
    """The nearest due time of the running, unpaused clocks and the worst light of all running ones."""
    active = [c for c in running if c.paused_at is None]
    due = min((c.due_at for c in active), default=None)
    order: dict[str, int] = {Light.GREEN: 0, Light.YELLOW: 1, Light.RED: 2}
    light = max((c.light for c in running), key=lambda v: order[v], default=Light.GREEN)
    return due, light


def sync_event(event: Event, now: datetime | None = None) -> None:
    """Copy the nearest due time and the worst light of running clocks onto the event."""
    now = now or timezone.now()
    due, light = _due_and_light(list(SlaClock.objects.filter(event=event, stopped_at__isnull=True)))
    if (event.due_at, event.light) != (due, light):
        event.due_at, event.light = due, light
        type(event).objects.filter(pk=event.pk).update(due_at=due, light=light)


def ensure_before_deadline(event: Event, now: datetime | None = None) -> None:
    """Extensions and suspensions are asked for before the deadlines they would move or pause:
    the step the department is on and the overall one. A breach is a fact, not a negotiation."""
    now = now or timezone.now()
    step_clock = _running(event, SlaStep.HANDLE) or _running(event, SlaStep.ACCEPT)
    for clock in (step_clock, _running(event, SlaStep.OVERALL)):
        if clock is not None and (clock.breached_at is not None or now >= clock.due_at):
            raise Conflict(
                _("The deadline passed at %(due)s; an extension or suspension must be asked for before it.")
                % {"due": timezone.localtime(clock.breached_at or clock.due_at).strftime("%Y-%m-%d %H:%M")},
                code="deadline_passed",
            )


def apply_extension(event: Event, *, hours: int, at: datetime) -> dict[str, object]:
    """Move the handling (else accept) deadline and the overall one; keep the original due times."""
    moved: dict[str, dict[str, str]] = {}
    cal = calendar_for(event.grid)
    step_clock = _running(event, SlaStep.HANDLE) or _running(event, SlaStep.ACCEPT)
    for clock in [c for c in (step_clock, _running(event, SlaStep.OVERALL)) if c is not None]:
        before = clock.due_at
        record_missed_deadline(clock, at)
        clock.extension_minutes += hours * 60
        _schedule(clock, cal, at)
        clock.save()
        moved[clock.step] = {
            "from": before.isoformat(),
            "to": clock.due_at.isoformat(),
            "original": clock.original_due_at.isoformat(),
        }
    sync_event(event, at)
    return {"granted_hours": hours, "moved": moved}


def recompute_clock(clock: SlaClock, now: datetime) -> tuple[datetime, datetime]:
    """Recompute a running clock from the current policy and calendar; returns (old due, new due).

    The caller holds the event row lock, then the clock's (the services' order). A breach
    already recorded stays recorded, whatever the new deadline.
    """
    event = clock.event
    cal = calendar_for(event.grid)
    policy = policy_for(event.category, event.urgency, clock.step)
    old_due = clock.due_at
    record_missed_deadline(clock, now)
    if policy is not None:
        clock.policy = policy
        clock.limit_minutes, clock.working_time = _limit_minutes(policy, cal)
        clock.yellow_ratio = policy.yellow_ratio
    clock.original_due_at = add_minutes(clock.started_at, clock.limit_minutes, cal, clock.working_time)
    _schedule(clock, cal, now)
    clock.save()
    return old_due, clock.due_at


def retime_for_urgency(event: Event, now: datetime) -> dict[str, dict[str, object]]:
    """The event's urgency was raised (a warning went red: critical): time its running clocks again
    from their start under the limits of the new urgency, where those are shorter.

    The limits still start when the event was filed (wall clock); only the budget changes, so a
    clock whose shorter deadline already passed goes red and the sweep records the breach. A limit
    the new urgency would lengthen is left alone (raising the urgency never buys time), and a
    recorded breach stays recorded (recompute_clock). The caller holds the event's row lock and
    saves the event; returns what moved by step, for its history record.
    """
    cal = calendar_for(event.grid)
    moved: dict[str, dict[str, object]] = {}
    running = SlaClock.objects.select_for_update().filter(event=event, stopped_at__isnull=True).order_by("id")
    for clock in running:
        policy = policy_for(event.category, event.urgency, clock.step)
        if policy is None:
            continue
        limit, working = _limit_minutes(policy, cal)
        budget = limit + clock.extension_minutes + clock.paused_minutes
        if add_minutes(clock.started_at, budget, cal, working) >= clock.due_at:
            continue
        clock.event = event  # the urgency as raised, not the row as stored
        old_due, new_due = recompute_clock(clock, now)
        moved[clock.step] = {
            "from": old_due.isoformat(),
            "to": new_due.isoformat(),
            "breached_at": clock.breached_at.isoformat() if clock.breached_at else None,
        }
    if moved:
        sync_event(event, now)
    return moved


def dispatch_missed_q() -> Q:
    """Events still waiting for dispatch whose dispatch limit was missed, even though an automatic
    escalation started the parent tier's fresh (green) dispatch clock: a breached dispatch clock
    with no dispatch since (a dispatch starts the accept clock)."""
    dispatched_since = SlaClock.objects.filter(
        event=OuterRef("event"), step=SlaStep.ACCEPT, started_at__gte=OuterRef("stopped_at")
    )
    missed = SlaClock.objects.filter(
        event=OuterRef("pk"), step=SlaStep.DISPATCH, breached_at__isnull=False, stopped_at__isnull=False
    ).filter(~Exists(dispatched_since))
    return Q(state=State.REPORTED) & Q(Exists(missed))


def overdue_q() -> Q:
    """Open events past a deadline now (red), or past the dispatch limit they were escalated for."""
    return Q(state__in=OPEN_STATES) & (Q(light=Light.RED) | dispatch_missed_q())


def due_soon_q() -> Q:
    """Open events about to be overdue (yellow) and not overdue already."""
    return Q(state__in=OPEN_STATES, light=Light.YELLOW) & ~dispatch_missed_q()


def extension_preview(event: Event, hours: int) -> dict[str, datetime]:
    """The deadlines an extension of `hours` would give, by step (the handling or accept one and the
    overall one), computed as apply_extension would, without changing anything. The hours count as
    the clock counts: working hours on a working-time clock."""
    cal = calendar_for(event.grid)
    step_clock = _running(event, SlaStep.HANDLE) or _running(event, SlaStep.ACCEPT)
    found: dict[str, datetime] = {}
    for clock in [c for c in (step_clock, _running(event, SlaStep.OVERALL)) if c is not None]:
        budget = clock.limit_minutes + clock.extension_minutes + hours * 60 + clock.paused_minutes
        found[clock.step] = add_minutes(clock.started_at, budget, cal, clock.working_time)
    return found
