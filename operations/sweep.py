"""The SLA sweep: fire yellow and red thresholds that have come due, once each.

Runs every minute from Celery beat. It reads only clocks whose
`next_check_at` has passed (a partial index), so its cost follows the number
of due thresholds, not the number of open events. Locks are taken in the
services' order (event row, then clock row) and skip rows someone else
holds, so two sweeps at once, or a sweep beside an operator, neither
deadlock nor notify twice; a second run finds nothing left to do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Conflict
from dispatch.models import Light, SlaClock, SlaStep
from dispatch.sla import sync_event
from incidents.models import Event, State
from operations.outbox import outbox_put
from operations.services import event_escalate

logger = logging.getLogger(__name__)


@dataclass
class SweepResult:
    checked: int = 0
    yellow: int = 0
    red: int = 0
    escalated: int = 0
    skipped_locked: int = 0
    failed: int = 0


def sweep(now: datetime | None = None, batch: int = 1000, chunk: int = 100) -> SweepResult:
    now = now or timezone.now()
    result = SweepResult()
    due = list(
        SlaClock.objects.filter(next_check_at__lte=now).order_by("next_check_at").values_list("pk", "event_id")[:batch]
    )
    # A transaction per chunk, not per clock: one commit (and one worker kick) per hundred thresholds.
    for start in range(0, len(due), chunk):
        part = due[start : start + chunk]
        with transaction.atomic():
            event_ids = sorted({event_id for _clock, event_id in part})
            events = {
                e.pk: e
                for e in Event.objects.select_for_update(skip_locked=True).filter(pk__in=event_ids).order_by("pk")
            }
            result.skipped_locked += len(event_ids) - len(events)
            clocks_of: dict[int, list[int]] = {}
            for clock_id, event_id in part:
                if event_id in events:
                    clocks_of.setdefault(event_id, []).append(clock_id)
            for event_id, clock_ids in clocks_of.items():
                _sweep_event(events[event_id], clock_ids, now, result)
    return result


def _sweep_event(event: Event, clock_ids: list[int], now: datetime, result: SweepResult) -> None:
    """Fire one event's thresholds and, when nobody dispatched it in time, escalate it, all in one
    savepoint: the red mark and the escalation commit together or not at all (exactly once).
    An unexpected error rolls back this event alone; its clock stays due and the next sweep
    tries again, while the rest of the batch goes on."""
    counts = (result.checked, result.yellow, result.red)
    try:
        with transaction.atomic():
            escalate = False
            for clock in (
                SlaClock.objects.select_for_update().filter(pk__in=clock_ids, next_check_at__lte=now).order_by("pk")
            ):
                result.checked += 1
                clock.event = event  # known already: the roll-up mark (dispatch.rollups) needs no read of it
                escalate |= _fire(event, clock, now, result)
            if escalate and _escalate(event):
                result.escalated += 1
                event.refresh_from_db()
            sync_event(event, now)
    except Exception:
        result.checked, result.yellow, result.red = counts
        result.failed += 1
        logger.exception("SLA sweep: event %s failed; it stays due and is retried next sweep", event.pk)


def _escalate(event: Event) -> bool:
    """Nobody dispatched in time: hand it up, through the same service an operator uses."""
    try:
        event_escalate(actor=None, event_id=event.pk, reason=_("Not dispatched within the time limit"))
    except Conflict as exc:
        if exc.code == "top_tier":  # the city has nobody above it: the red mark is all there is
            return False
        raise
    return True


def _fire(event: Event, clock: SlaClock, now: datetime, result: SweepResult) -> bool:
    """Fire the thresholds of one clock that have passed; True when the event must escalate."""
    escalate = False
    if not clock.yellow_notified and now >= clock.yellow_at:
        clock.yellow_notified = True
        if clock.light == Light.GREEN:
            clock.light = Light.YELLOW
        result.yellow += 1
        if now < clock.due_at and clock.breached_at is None:
            _notify(event, clock, "sla.yellow")
    if not clock.red_notified and (now >= clock.due_at or clock.breached_at is not None):
        clock.red_notified = True
        clock.yellow_notified = True
        clock.light = Light.RED
        clock.breached_at = clock.breached_at or clock.due_at
        result.red += 1
        _notify(event, clock, "sla.red")
        escalate = clock.step == SlaStep.DISPATCH and event.state == State.REPORTED
    if not clock.yellow_notified:
        clock.next_check_at = clock.yellow_at
    elif not clock.red_notified:
        clock.next_check_at = clock.due_at
    else:
        clock.next_check_at = None
    clock.save(update_fields=["yellow_notified", "red_notified", "light", "breached_at", "next_check_at"])
    return escalate


def _notify(event: Event, clock: SlaClock, topic: str) -> None:
    outbox_put(
        topic,
        event=event,
        payload={
            "event": event.pk,
            "code": event.code,
            "action": topic,
            "step": clock.step,
            "clock": clock.pk,
            "lead": lead.code if (lead := event.lead_department) is not None else None,
            "co": [],
        },
    )
