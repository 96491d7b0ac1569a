"""Is every calendar ready for the deadlines it computes? For /healthz, the admin and the event page.

A deadline computed over days a calendar does not know (see dispatch.calendar)
is flagged on its clock (`SlaClock.calendar_unknown`). From 1 October each
year, next year must be known too: that is when limits and extensions start
running into it, and when the State Council usually publishes its holidays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from dispatch.calendar import all_calendars
from dispatch.models import SlaClock

WARN_FROM = (10, 1)  # month, day: from then on next year's holidays are needed


@dataclass(frozen=True)
class CalendarGap:
    """A calendar that does not know the days it soon needs."""

    name: str
    known_through: date
    needed_through: date


def needed_through(today: date) -> date:
    """The last day every calendar should know by `today`: this year, and from 1 October next year too."""
    return date(today.year + (1 if (today.month, today.day) >= WARN_FROM else 0), 12, 31)


def calendar_gaps(today: date | None = None) -> list[CalendarGap]:
    today = today or timezone.localdate()
    needed = needed_through(today)
    gaps = []
    for cal in all_calendars():
        known = cal.known_through(today)
        if known < needed:
            gaps.append(CalendarGap(cal.name, known, needed))
    return gaps


def unknown_running_deadlines() -> int:
    """Running clocks whose deadline was computed over days their calendar does not know (partial index)."""

    return SlaClock.objects.filter(calendar_unknown=True, stopped_at__isnull=True).count()


def calendar_status(today: date | None = None) -> dict:
    """The /healthz detail: `known_until` is the earliest any calendar knows through; never a reason for 503."""
    today = today or timezone.localdate()
    known_until = min(cal.known_through(today) for cal in all_calendars())
    unknown = unknown_running_deadlines()
    return {
        "ok": known_until >= needed_through(today) and unknown == 0,
        "known_until": known_until.isoformat(),
        "needed_until": needed_through(today).isoformat(),
        "unknown_deadlines": unknown,
    }
