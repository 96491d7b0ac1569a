from django.core.management.base import BaseCommand, CommandError

from dispatch.holidays import import_year, known_years
from dispatch.models import BusinessCalendar


class Command(BaseCommand):
    help = "Import public holidays and make-up working days (调休) from chinese-calendar into a business calendar."

    def add_arguments(self, parser):
        parser.add_argument("years", nargs="*", type=int, help="Years to import (default: every year it knows).")
        parser.add_argument("--unit", help="Org unit code of the calendar (default: the city's).")

    def handle(self, *args, **options):
        if options["unit"]:
            calendar = BusinessCalendar.objects.filter(org_unit__code=options["unit"]).first()
        else:
            calendar = BusinessCalendar.objects.filter(org_unit__isnull=True).first()
        if calendar is None:
            raise CommandError("No such calendar; create it in the admin first.")
        for year in options["years"] or list(known_years()):
            try:
                count = import_year(calendar, year)
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(f"{year}: {count} holiday and make-up days in {calendar}")
