"""Rebuild the evaluation report's daily roll-ups (dispatch.rollups) for a range of report days."""

from collections import defaultdict
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Max, Min
from django.utils import timezone

from dispatch.rollups import rebuild_days, report_day
from incidents.models import Event


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option}: {value!r} is not a date (YYYY-MM-DD).") from None


class Command(BaseCommand):
    help = (
        "Recompute the daily roll-ups of the evaluation report, replacing each day (idempotent). "
        "Default: every day from the first day of the first event's month to today (whole months "
        "are what a year's report reads from their sums)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", help="First report day (YYYY-MM-DD).")
        parser.add_argument("--to", dest="end", help="Last report day, inclusive (YYYY-MM-DD).")
        parser.add_argument("--workers", type=int, default=1, help="Processes building days side by side (PostgreSQL).")

    def handle(self, *args, **options):
        span = Event.objects.aggregate(first=Min("reported_at"), last=Max("reported_at"))
        today = timezone.localdate()
        first = report_day(span["first"] or timezone.now()).replace(day=1)
        start = _day(options["start"], "--from") if options["start"] else first
        end = _day(options["end"], "--to") if options["end"] else max(today, report_day(span["last"] or timezone.now()))
        if end < start:
            raise CommandError(f"--to {end} is before --from {start}.")
        workers = options["workers"]
        if workers < 1:
            raise CommandError(f"--workers {workers}: must be at least 1.")
        if workers > 1 and connection.vendor != "postgresql":
            raise CommandError("--workers needs PostgreSQL (SQLite writes one transaction at a time).")
        days = [date.fromordinal(n) for n in range(start.toordinal(), end.toordinal() + 1)]
        by_month: dict[date, list[date]] = defaultdict(list)
        for day in days:
            by_month[day.replace(day=1)].append(day)
        started = timezone.now()
        events = done = 0
        # A month at a time: each is summed as soon as its days are built, and progress shows.
        for month, its_days in by_month.items():
            events += rebuild_days(its_days, workers=workers)
            done += len(its_days)
            if options["verbosity"] > 0:
                self.stdout.write(f"{month:%Y-%m}: {done}/{len(days)} days, {events} events")
        seconds = (timezone.now() - started).total_seconds()
        self.stdout.write(f"rolled up {events} events over {len(days)} days ({start} to {end}) in {seconds:.1f} s")
