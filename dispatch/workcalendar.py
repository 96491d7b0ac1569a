"""Is a date a working day (for routing's day-type condition)? The SLA calendar decides."""

from __future__ import annotations

from datetime import date

from accounts.models import OrgUnit
from dispatch.calendar import calendar_for


def is_working_day(day: date, org_unit: OrgUnit | None = None) -> bool:
    return calendar_for(org_unit).is_working_day(day)
