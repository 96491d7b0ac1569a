"""All deadline arithmetic: add working minutes to an instant; working minutes between two instants.

Instants are timezone-aware; days and hours are those of settings.TIME_ZONE
(Asia/Shanghai). Natural time is plain clock arithmetic. Nothing else in
citygov computes a deadline.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from dispatch.calendar import Calendar

MAX_DAYS = 3 * 366  # a limit that needs more than three years of working days is a configuration error


def _zone() -> ZoneInfo:
    # Django keeps the zone of settings.TIME_ZONE (and drops it when a test overrides the setting).
    return timezone.get_default_timezone()


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def _day_periods(cal: Calendar, day: date, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    return [
        (datetime.combine(day, start, tzinfo=zone), datetime.combine(day, end, tzinfo=zone))
        for start, end in cal.merged_periods_on(day)
    ]


def add_working_minutes(start: datetime, minutes: float, cal: Calendar) -> datetime:
    """The instant when `minutes` of working time have passed since `start`."""
    _require_aware(start, "start")
    if minutes < 0:
        raise ValueError("minutes must not be negative")
    zone = _zone()
    cursor = start.astimezone(zone)
    remaining = timedelta(minutes=minutes)
    if remaining == timedelta(0):
        return start
    day = cursor.date()
    for _ in range(MAX_DAYS):
        for period_start, period_end in _day_periods(cal, day, zone):
            if period_end <= cursor:
                continue
            begin = max(period_start, cursor)
            available = period_end - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        day += timedelta(days=1)
    raise ValueError(f"calendar {cal.name!r} has too little working time to add {minutes} minutes")


def working_minutes_between(a: datetime, b: datetime, cal: Calendar) -> float:
    """Working minutes from `a` to `b` (0 when b is not after a)."""
    _require_aware(a, "a")
    _require_aware(b, "b")
    if b <= a:
        return 0.0
    zone = _zone()
    a, b = a.astimezone(zone), b.astimezone(zone)
    total = timedelta(0)
    day = a.date()
    while day <= b.date():
        for period_start, period_end in _day_periods(cal, day, zone):
            lo, hi = max(period_start, a), min(period_end, b)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total.total_seconds() / 60


def unknown_day_between(a: datetime, b: datetime, cal: Calendar, working: bool) -> date | None:
    """The first local day from `a` to `b` whose holidays `cal` does not know, if working time spans one.

    There the arithmetic has assumed the weekly pattern (Monday–Friday), which
    a public holiday or make-up day would prove wrong: the deadline is a guess.
    Natural time does not depend on the calendar.
    """
    if not working:
        return None
    _require_aware(a, "a")
    _require_aware(b, "b")
    zone = _zone()
    first, last = sorted((a.astimezone(zone).date(), b.astimezone(zone).date()))
    return cal.first_unknown_day(first, last)


def add_minutes(start: datetime, minutes: float, cal: Calendar, working: bool) -> datetime:
    return add_working_minutes(start, minutes, cal) if working else start + timedelta(minutes=minutes)


def minutes_between(a: datetime, b: datetime, cal: Calendar, working: bool) -> float:
    if working:
        return working_minutes_between(a, b, cal)
    return max((b - a).total_seconds() / 60, 0.0)
