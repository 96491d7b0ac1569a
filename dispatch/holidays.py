"""Fill a business calendar's day overrides from chinese-calendar for the years it knows."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
from django.db import transaction

from .models import BusinessCalendar, CalendarDay


def known_years() -> range:
    """The years chinese-calendar ships official holiday data for."""
    years = sorted({d.year for d in chinese_calendar.holidays})
    return range(years[0], years[-1] + 1)


@transaction.atomic
def import_year(calendar: BusinessCalendar, year: int) -> int:
    """Record the year's public holidays on weekdays and its make-up working weekend days (调休).

    Plain weekends need no row. Idempotent; rows entered by hand for the year are updated.
    """
    if year not in known_years():
        raise ValueError(
            f"chinese-calendar has no data for {year} (it knows {known_years().start}–{known_years().stop - 1}); "
            "enter that year's holidays and make-up days in the admin."
        )
    count = 0
    day = date(year, 1, 1)
    while day.year == year:
        working = chinese_calendar.is_workday(day)
        weekend = day.weekday() >= 5
        if working == weekend:  # a holiday on a weekday, or a working weekend day
            _on_holiday, name = chinese_calendar.get_holiday_detail(day)
            CalendarDay.objects.update_or_create(
                calendar=calendar,
                date=day,
                defaults={"is_working": working, "note": (name or "") if not working else f"调休 {name or ''}".strip()},
            )
            count += 1
        day += timedelta(days=1)
    return count
