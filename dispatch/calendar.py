"""Business calendars as plain data, cached per process and refreshed when edited.

Which days are working days: a calendar's own overrides first (holidays
and 调休 make-up days, editable in the admin); then, for the years
chinese-calendar ships, its weekday holidays and weekend make-up days;
otherwise the calendar's weekly pattern (so a unit that works weekends can
say so). Which hours: the calendar's
periods for that weekday; a make-up working day on a weekend uses the
standard (Monday) hours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

import chinese_calendar
from django.db.models.signals import post_delete, post_save

from citygov.process_cache import ProcessCache

DEFAULT_PERIODS = [(time(8, 30), time(12, 0)), (time(13, 30), time(17, 30))]


@dataclass(frozen=True)
class Calendar:
    name: str
    periods: dict[int, tuple[tuple[time, time], ...]]
    overrides: dict[date, bool] = field(default_factory=dict)

    @property
    def standard_periods(self) -> tuple[tuple[time, time], ...]:
        return self.periods.get(0) or next((p for p in self.periods.values() if p), ())

    @property
    def minutes_per_day(self) -> int:
        return sum((e.hour * 60 + e.minute) - (s.hour * 60 + s.minute) for s, e in self.standard_periods)

    def day_override(self, day: date) -> bool | None:
        return self.overrides.get(day)

    def is_working_day(self, day: date) -> bool:
        override = self.overrides.get(day)
        if override is not None:
            return override
        weekly = bool(self.periods.get(day.weekday()))
        try:
            official = chinese_calendar.is_workday(day)
        except NotImplementedError:  # a year chinese-calendar does not know: the weekly pattern
            return weekly
        weekend = day.weekday() >= 5
        if weekend and official:
            return True  # a make-up working day (调休)
        if not weekend and not official:
            return False  # a public holiday on a weekday
        return weekly

    def periods_on(self, day: date) -> tuple[tuple[time, time], ...]:
        if not self.is_working_day(day):
            return ()
        return self.periods.get(day.weekday()) or self.standard_periods


BUILT_IN = Calendar("built-in", {wd: tuple(DEFAULT_PERIODS) for wd in range(5)})


def _load(calendar_model) -> Calendar:
    periods: dict[int, list[tuple[time, time]]] = {}
    for p in calendar_model.periods.all():
        periods.setdefault(p.weekday, []).append((p.start, p.end))
    overrides = dict(calendar_model.days.values_list("date", "is_working"))
    return Calendar(calendar_model.name, {k: tuple(sorted(v)) for k, v in periods.items()}, overrides)


@dataclass(frozen=True)
class _Calendars:
    by_unit: dict[str, Calendar]
    default: Calendar


def _build() -> _Calendars:
    from .models import BusinessCalendar

    by_unit: dict[str, Calendar] = {}
    default = BUILT_IN
    for model in BusinessCalendar.objects.select_related("org_unit").prefetch_related("periods", "days"):
        loaded = _load(model)
        if model.org_unit_id is None:
            default = loaded
        else:
            by_unit[model.org_unit.code] = loaded
    return _Calendars(by_unit, default)


_calendars: ProcessCache[_Calendars] = ProcessCache("calendars", _build)


def calendar_for(org_unit=None) -> Calendar:
    """The calendar of the nearest unit (from `org_unit` up) that has one, else the city's."""
    calendars = _calendars.get()
    if org_unit is not None and calendars.by_unit:
        for code in reversed(org_unit.depth_codes):
            if code in calendars.by_unit:
                return calendars.by_unit[code]
    return calendars.default


def invalidate() -> None:
    _calendars.invalidate()


def _connect() -> None:
    from accounts.models import OrgUnit

    from .models import BusinessCalendar, CalendarDay, WorkingPeriod

    # Calendars are looked up by their unit's code, which a unit's save may change.
    for model in (BusinessCalendar, CalendarDay, WorkingPeriod, OrgUnit):
        post_save.connect(_changed, sender=model, dispatch_uid=f"calendar-{model.__name__}-save")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"calendar-{model.__name__}-delete")


def _changed(sender, **kwargs) -> None:
    invalidate()
