"""Keeping business calendars: working periods, and the holiday / make-up day lists.

chinese-calendar fills the years it ships (`import_year`); later years come
from a CSV file of the official notice (`read_days_csv` + `import_days`,
the `calendar_import` command), or by hand in the admin. Working periods
are replaced as a whole (`set_working_periods`), refusing overlaps.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from pathlib import Path

import chinese_calendar
from django.core.exceptions import ValidationError
from django.db import transaction

from dispatch.calendar import OFFICIAL_YEARS, invalidate
from dispatch.models import BusinessCalendar, CalendarDay, WorkingPeriod
from dispatch.periods import overlapping_pairs

CSV_COLUMNS = ("date", "kind", "name")
KINDS = {"holiday": False, "workday": True}  # kind → is_working; workday = 调休上班
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
NOTE_MAX = CalendarDay._meta.get_field("note").max_length


def known_years() -> range:
    """The years chinese-calendar ships official holiday data for."""
    return OFFICIAL_YEARS


@transaction.atomic
def import_year(calendar: BusinessCalendar, year: int) -> int:
    """Record the year's public holidays on weekdays and its make-up working weekend days (调休).

    Plain weekends need no row. Idempotent; rows entered by hand for the year are updated.
    """
    if year not in known_years():
        raise ValueError(
            f"chinese-calendar has no data for {year} (it knows {known_years().start}–{known_years().stop - 1}); "
            "import that year's holidays and make-up days from a CSV file (calendar_import FILE) or enter them "
            "in the admin."
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


# --- CSV day lists: date,kind,name


@dataclass(frozen=True)
class DayRow:
    """One line of a day-list file: a holiday or a make-up working day (调休上班)."""

    date: date
    is_working: bool
    note: str
    where: str  # "FILE, row N", for messages


class CalendarFileError(Exception):
    """A day-list file that cannot be imported; `problems` name file, row and field, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def read_days_csv(path: str | Path) -> list[DayRow]:
    """Parse and check a whole file; raise CalendarFileError listing every problem, or return its rows.

    Format: UTF-8 (a BOM is fine), a header `date,kind,name`, then one day per
    row: `date` as YYYY-MM-DD, `kind` holiday or workday, `name` optional (up
    to 64 characters). Blank rows are skipped; a date may appear once.
    """
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CalendarFileError([f"{name}: no such file"]) from None
    except UnicodeDecodeError as exc:
        raise CalendarFileError([f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    except OSError as exc:
        raise CalendarFileError([f"{name}: cannot be read ({exc.strerror})"]) from None

    problems: list[str] = []
    rows: list[DayRow] = []
    seen: dict[date, str] = {}
    reader = csv.reader(text.splitlines())
    header_seen = False
    for fields in reader:
        where = f"{name}, row {reader.line_num}"
        if not any(f.strip() for f in fields):
            continue
        if not header_seen:
            header_seen = True
            found = tuple(f.strip().lower() for f in fields)
            if found not in (CSV_COLUMNS, CSV_COLUMNS[:2]):
                problems.append(f"{where}: the first row must be the header date,kind,name (found {','.join(fields)})")
                break
            continue
        if len(fields) not in (2, 3):
            problems.append(f"{where}: expected the fields date,kind,name, found {len(fields)} fields")
            continue
        raw_date, raw_kind = fields[0].strip(), fields[1].strip().lower()
        note = fields[2].strip() if len(fields) == 3 else ""
        row_problems = []
        try:
            day = date.fromisoformat(raw_date) if ISO_DAY.fullmatch(raw_date) else None
        except ValueError:  # 2027-02-30
            day = None
        if day is None:
            row_problems.append(f"{where}, field date: {raw_date!r} is not a date written YYYY-MM-DD")
        elif day in seen:
            row_problems.append(f"{where}, field date: {raw_date} is already given in {seen[day]}")
        if raw_kind not in KINDS:
            row_problems.append(f"{where}, field kind: {fields[1].strip()!r} is not one of holiday, workday")
        if len(note) > NOTE_MAX:
            row_problems.append(f"{where}, field name: longer than {NOTE_MAX} characters")
        if row_problems:
            problems.extend(row_problems)
            continue
        seen[day] = where
        rows.append(DayRow(day, KINDS[raw_kind], note, where))
    if not header_seen:
        problems.append(f"{name}: empty; expected the header date,kind,name and one row per day")
    if problems:
        raise CalendarFileError(problems)
    return rows


@dataclass
class DayImport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    years: list[int] = field(default_factory=list)


@transaction.atomic
def import_days(calendar: BusinessCalendar, rows: Iterable[DayRow]) -> DayImport:
    """Write the rows as the calendar's day overrides: idempotent, all in one transaction.

    A date already entered is updated to the file's kind and name; days of
    the year not in the file are kept (delete them in the admin).
    """
    # One import per calendar at a time: the second waits and then sees the first's rows.
    BusinessCalendar.objects.select_for_update().filter(pk=calendar.pk).first()
    rows = list(rows)
    existing = {d.date: d for d in CalendarDay.objects.filter(calendar=calendar, date__in=[r.date for r in rows])}
    result = DayImport()
    for row in rows:
        current = existing.get(row.date)
        if current is None:
            CalendarDay.objects.create(calendar=calendar, date=row.date, is_working=row.is_working, note=row.note)
            result.added += 1
        elif (current.is_working, current.note) != (row.is_working, row.note):
            current.is_working, current.note = row.is_working, row.note
            current.save(update_fields=["is_working", "note"])
            result.updated += 1
        else:
            result.unchanged += 1
    result.years = sorted({r.date.year for r in rows})
    return result


# --- working periods


@transaction.atomic
def set_working_periods(calendar: BusinessCalendar, periods: Iterable[tuple[int, time, time]]) -> None:
    """Replace the calendar's working periods (weekday 0 = Monday, start, end); refuse overlaps.

    Raises ValidationError naming the weekday and both periods, and changes nothing.
    """
    items = list(periods)
    weekday_names = dict(WorkingPeriod._meta.get_field("weekday").choices)
    problems = [
        f"{weekday_names.get(wd, wd)} {start:%H:%M}–{end:%H:%M}: the end must be after the start"
        for wd, start, end in items
        if end <= start
    ]
    for i, j in overlapping_pairs(items):
        wd, start, end = items[j]
        _wd, other_start, other_end = items[i]
        problems.append(
            f"{weekday_names.get(wd, wd)} {start:%H:%M}–{end:%H:%M} overlaps {other_start:%H:%M}–{other_end:%H:%M}"
        )
    if problems:
        raise ValidationError(problems)
    BusinessCalendar.objects.select_for_update().filter(pk=calendar.pk).first()
    WorkingPeriod.objects.filter(calendar=calendar).delete()
    WorkingPeriod.objects.bulk_create(
        WorkingPeriod(calendar=calendar, weekday=wd, start=s, end=e) for wd, s, e in items
    )
    invalidate()  # bulk_create sends no post_save
