"""The SLA sweep: fire yellow and red thresholds that have come due, once each.

Runs every minute from Celery beat. It reads only clocks whose
`next_check_at` has passed (a partial index), so its cost follows the number
of due thresholds, not the number of open events. Locks are taken in the
services' order (event row, then clock row) and skip rows someone else
holds, so two sweeps at once, or a sweep beside an operator, neither
deadlock nor notify twice; a second run finds nothing left to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.errors import ServiceError
from incidents.models import Event, State
from incidents.services import event_escalate

from .models import Light, SlaClock, SlaStep
from .outbox import outbox_put
from .sla import sync_event


@dataclass
class SweepResult:
    checked: int = 0
    yellow: int = 0
    red: int = 0
    escalated: int = 0
    skipped_locked: int = 0


def sweep(now: datetime | None = None, batch: int = 1000) -> SweepResult:
    now = now or timezone.now()
    result = SweepResult()
    due = list(
        SlaClock.objects.filter(next_check_at__lte=now).order_by("next_check_at").values_list("pk", "event_id")[:batch]
    )
    for clock_id, event_id in due:
        escalate = False
        with transaction.atomic():
            event = Event.objects.select_for_update(skip_locked=True).filter(pk=event_id).first()
            if event is None:
                result.skipped_locked += 1
                continue
            clock = SlaClock.objects.select_for_update().filter(pk=clock_id, next_check_at__lte=now).first()
            if clock is None:  # handled meanwhile by a transition or another sweep
                continue
            result.checked += 1
            if not clock.yellow_notified and now >= clock.yellow_at:
                clock.yellow_notified = True
                if clock.light == Light.GREEN:
                    clock.light = Light.YELLOW
                result.yellow += 1
                if now < clock.due_at:
                    _notify(event, clock, "sla.yellow")
            if not clock.red_notified and now >= clock.due_at:
                clock.red_notified = True
                clock.yellow_notified = True
                clock.light = Light.RED
                clock.breached_at = clock.due_at
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
            sync_event(event, now)
        if escalate:
            # Nobody dispatched in time: hand it up, through the same service an operator uses.
            try:
                event_escalate(actor=None, event_id=event_id, reason=_("Not dispatched within the time limit"))
                result.escalated += 1
            except ServiceError:
                pass  # already at the city, or it changed meanwhile
    return result


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
            "lead": event.lead_department.code if event.lead_department_id else None,
            "co": [],
        },
    )
