"""Rebuild the evaluation report's daily roll-ups (dispatch.rollups) for a range of report days."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
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

    def handle(self, *args, **options):
        span = Event.objects.aggregate(first=Min("reported_at"), last=Max("reported_at"))
        today = timezone.localdate()
        first = report_day(span["first"] or timezone.now()).replace(day=1)
        start = _day(options["start"], "--from") if options["start"] else first
        end = _day(options["end"], "--to") if options["end"] else max(today, report_day(span["last"] or timezone.now()))
        if end < start:
            raise CommandError(f"--to {end} is before --from {start}.")
        days = [date.fromordinal(n) for n in range(start.toordinal(), end.toordinal() + 1)]
        started = timezone.now()
        events = 0
        for index, day in enumerate(days, start=1):
            events += rebuild_days([day])
            if options["verbosity"] > 1 or (index % 30 == 0 and options["verbosity"] > 0):
                self.stdout.write(f"{day}: {index}/{len(days)} days, {events} events")
        seconds = (timezone.now() - started).total_seconds()
        self.stdout.write(f"rolled up {events} events over {len(days)} days ({start} to {end}) in {seconds:.1f} s")
