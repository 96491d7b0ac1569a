"""Business calendars as plain data, cached per process and refreshed when edited.

Which days are working days: a calendar's own overrides first (holidays
and 调休 make-up days, editable in the admin); then, for the years
chinese-calendar ships, its weekday holidays and weekend make-up days;
otherwise the calendar's weekly pattern (so a unit that works weekends can
say so). Which hours: the calendar's
periods for that weekday; a make-up working day on a weekend uses the
standard (Monday) hours.

Which days a calendar *knows*: a day is known when its year is one
chinese-calendar ships official data for (`OFFICIAL_YEARS`), or when the
calendar has at least one holiday or make-up day entered for that year (by
hand or with `calendar_import`): entering a year's list is how an admin
says "this year is done". On any other day the weekly pattern is only a
guess (a public holiday would count as a working day), so a deadline
computed over such a day is flagged. A calendar is "known through" the
last day of the unbroken run of known years that starts with a given
day's year.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, time
from functools import cached_property

import chinese_calendar
from django.db.models import Model
from django.db.models.signals import post_delete, post_save

from accounts.models import OrgUnit
from core.process_cache import ProcessCache
from dispatch.models import BusinessCalendar, CalendarDay, WorkingPeriod
from dispatch.periods import merge_periods

_MERGED_DAYS_KEPT = 5000
DEFAULT_PERIODS = [(time(8, 30), time(12, 0)), (time(13, 30), time(17, 30))]

# The years chinese-calendar 1.x ships official holidays and make-up days for (an unbroken run).
_official = sorted({d.year for d in (*chinese_calendar.holidays, *chinese_calendar.workdays)})
OFFICIAL_YEARS = range(_official[0], _official[-1] + 1)


def known_through(entered_years: Iterable[int], today: date) -> date:
    """The last day of the unbroken run of known years that starts with today's year.

    Known: chinese-calendar ships the year, or it is among `entered_years`
    (years with holidays or make-up days entered). A date before `today`
    means the calendar does not even know this year.
    """
    entered = set(entered_years)
    year = today.year
    while year in OFFICIAL_YEARS or year in entered:
        year += 1
    return date(year - 1, 12, 31)


@dataclass(frozen=True)
class Calendar:
    name: str
    periods: dict[int, tuple[tuple[time, time], ...]]
    overrides: dict[date, bool] = field(default_factory=dict)
    # Each day's merged periods, worked out once per day per loaded calendar: every new clock asks
    # for the same few days, and chinese-calendar's lookup is most of a due time's cost (#20). An
    # edit replaces the whole Calendar (the process cache reloads it), and this with it.
    _merged: dict[date, tuple[tuple[time, time], ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def standard_periods(self) -> tuple[tuple[time, time], ...]:
        return self.periods.get(0) or next((p for p in self.periods.values() if p), ())

    @property
    def minutes_per_day(self) -> int:
        return sum((e.hour * 60 + e.minute) - (s.hour * 60 + s.minute) for s, e in merge_periods(self.standard_periods))

    @cached_property
    def entered_years(self) -> frozenset[int]:
        """Years with at least one holiday or make-up day entered: the admin's word that the year is known."""
        return frozenset(day.year for day in self.overrides)

    def knows_year(self, year: int) -> bool:
        return year in OFFICIAL_YEARS or year in self.entered_years

    def first_unknown_day(self, first: date, last: date) -> date | None:
        """The first day from `first` to `last` (inclusive) whose holidays this calendar does not know."""
        for year in range(first.year, last.year + 1):
            if not self.knows_year(year):
                return max(first, date(year, 1, 1))
        return None

    def known_through(self, today: date) -> date:
        return known_through(self.entered_years, today)

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

    def merged_periods_on(self, day: date) -> tuple[tuple[time, time], ...]:
        """The day's working periods, overlaps merged (08:00–12:00 and 10:00–14:00 count 10:00–12:00 once)."""
        merged = self._merged.get(day)
        if merged is None:
            if len(self._merged) > _MERGED_DAYS_KEPT:  # a long-lived process walking many years
                self._merged.clear()
            merged = self._merged[day] = merge_periods(self.periods_on(day))
        return merged


BUILT_IN = Calendar("built-in", {wd: tuple(DEFAULT_PERIODS) for wd in range(5)})


def _load(calendar_model: BusinessCalendar) -> Calendar:
    periods: dict[int, list[tuple[time, time]]] = {}
    for p in calendar_model.periods.all():
        periods.setdefault(p.weekday, []).append((p.start, p.end))
    overrides = dict(calendar_model.days.values_list("date", "is_working"))
    return Calendar(calendar_model.name, {k: merge_periods(v) for k, v in periods.items()}, overrides)


@dataclass(frozen=True)
class _Calendars:
    by_unit: dict[str, Calendar]
    default: Calendar


def _build() -> _Calendars:

    by_unit: dict[str, Calendar] = {}
    default = BUILT_IN
    for model in BusinessCalendar.objects.select_related("org_unit").prefetch_related("periods", "days"):
        loaded = _load(model)
        if model.org_unit is None:  # selected with the calendar: no query
            default = loaded
        else:
            by_unit[model.org_unit.code] = loaded
    return _Calendars(by_unit, default)


_calendars: ProcessCache[_Calendars] = ProcessCache("calendars", _build)


def calendar_for(org_unit: OrgUnit | None = None) -> Calendar:
    """The calendar of the nearest unit (from `org_unit` up) that has one, else the city's."""
    calendars = _calendars.get()
    if org_unit is not None and calendars.by_unit:
        for code in reversed(org_unit.depth_codes):
            if code in calendars.by_unit:
                return calendars.by_unit[code]
    return calendars.default


def all_calendars() -> list[Calendar]:
    """The city's calendar (built-in hours if none is entered) and every unit's."""
    calendars = _calendars.get()
    return [calendars.default, *calendars.by_unit.values()]


def invalidate() -> None:
    _calendars.invalidate()


def _connect() -> None:

    # Calendars are looked up by their unit's code, which a unit's save may change.
    for model in (BusinessCalendar, CalendarDay, WorkingPeriod, OrgUnit):
        post_save.connect(_changed, sender=model, dispatch_uid=f"calendar-{model.__name__}-save")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"calendar-{model.__name__}-delete")


def _changed(sender: type[Model], **kwargs: object) -> None:
    invalidate()
