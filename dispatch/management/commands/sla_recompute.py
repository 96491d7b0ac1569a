"""Recompute running clocks after a policy or calendar change, and report what moved."""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from dispatch.models import SlaClock
from dispatch.sla import recompute_clock, sync_event


class Command(BaseCommand):
    help = "Recompute the deadlines of open events' running clocks from the current policies and calendars."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Report what would move; change nothing.")

    def handle(self, *args, **options):
        now = timezone.now()
        moved = unchanged = 0
        ids = list(SlaClock.objects.filter(stopped_at__isnull=True).values_list("pk", flat=True).order_by("pk"))
        for pk in ids:
            with transaction.atomic():
                clock = SlaClock.objects.select_for_update().select_related("event__grid", "event__category").get(pk=pk)
                old, new = recompute_clock(clock, now)
                if old != new:
                    moved += 1
                    self.stdout.write(
                        f"{clock.event.code} {clock.step}: {timezone.localtime(old):%Y-%m-%d %H:%M} → "
                        f"{timezone.localtime(new):%Y-%m-%d %H:%M}"
                    )
                    sync_event(clock.event, now)
                else:
                    unchanged += 1
                if options["dry_run"]:
                    transaction.set_rollback(True)
        verb = "would move" if options["dry_run"] else "moved"
        self.stdout.write(self.style.SUCCESS(f"{moved} deadlines {verb}, {unchanged} unchanged."))
