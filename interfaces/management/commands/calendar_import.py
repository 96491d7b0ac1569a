"""Fill a business calendar's holidays and make-up working days (调休): from chinese-calendar, or a CSV file."""

from __future__ import annotations

import re

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from dispatch.holidays import CalendarFileError, DayRow, import_days, import_year, known_years, read_days_csv
from dispatch.models import BusinessCalendar

YEAR = re.compile(r"\d{4}")


class Command(BaseCommand):
    help = (
        "Import public holidays and make-up working days (调休) into a business calendar: a YEAR from "
        "chinese-calendar, or a CSV FILE with the header date,kind,name (kind: holiday or workday) for years "
        "it does not ship. All or nothing; running it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "sources",
            nargs="*",
            metavar="YEAR|FILE",
            help="Years to take from chinese-calendar, or CSV files (default: every year chinese-calendar knows).",
        )
        parser.add_argument("--unit", help="Org unit code of the calendar (default: the city's).")

    def handle(self, *args, **options):
        if options["unit"]:
            calendar = BusinessCalendar.objects.filter(org_unit__code=options["unit"]).first()
        else:
            calendar = BusinessCalendar.objects.filter(org_unit__isnull=True).first()
        if calendar is None:
            raise CommandError("No such calendar; create it in the admin first.")
        sources = options["sources"] or [str(y) for y in known_years()]
        years = [int(s) for s in sources if YEAR.fullmatch(s)]
        files = [s for s in sources if not YEAR.fullmatch(s)]

        # Read and check every file before writing anything: one bad row imports nothing.
        rows: list[DayRow] = []
        problems: list[str] = []
        for path in files:
            try:
                rows.extend(read_days_csv(path))
            except CalendarFileError as exc:
                problems.extend(exc.problems)
        first_seen = {}
        for row in rows:  # the same date in two files
            if row.date in first_seen:
                problems.append(f"{row.where}, field date: {row.date} is already given in {first_seen[row.date]}")
            first_seen.setdefault(row.date, row.where)
        if problems:
            raise CommandError("Nothing imported:\n" + "\n".join(problems))

        with transaction.atomic():
            for year in years:
                try:
                    count = import_year(calendar, year)
                except ValueError as exc:
                    raise CommandError(f"Nothing imported: {exc}") from None
                self.stdout.write(f"{year}: {count} holiday and make-up days from chinese-calendar in {calendar}")
            if files:
                result = import_days(calendar, rows)
                self.stdout.write(
                    f"{', '.join(files)}: {result.added} added, {result.updated} updated, "
                    f"{result.unchanged} unchanged in {calendar} (years {', '.join(map(str, result.years)) or '—'})"
                )
        self.stdout.write(
            "Deadlines already running keep their dates until `python manage.py sla_recompute` moves them."
        )
