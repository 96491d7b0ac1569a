"""Working days: Chinese public holidays and make-up working days (调休).

The SLA module's business calendar (editable per year, per org unit)
answers first; chinese-calendar answers for the years it ships; beyond
those, Monday–Friday.
"""

from __future__ import annotations

from datetime import date

import chinese_calendar


def is_working_day(day: date, org_unit=None) -> bool:
    from .calendar import calendar_for

    override = calendar_for(org_unit).day_override(day)
    if override is not None:
        return override
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:  # a year chinese-calendar does not know yet
        return day.weekday() < 5
