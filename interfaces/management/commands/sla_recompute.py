"""Recompute running clocks after a policy or calendar change, and report what moved."""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from dispatch.models import SlaClock
from dispatch.sla import recompute_clock, sync_event
from incidents.models import Event


class Command(BaseCommand):
    help = "Recompute the deadlines of open events' running clocks from the current policies and calendars."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Report what would move; change nothing.")

    def handle(self, *args, **options):
        now = timezone.now()
        moved = unchanged = 0
        rows = list(SlaClock.objects.filter(stopped_at__isnull=True).values_list("pk", "event_id").order_by("pk"))
        for pk, event_id in rows:
            with transaction.atomic():
                # Event first, then clock: the order the services use, so no deadlock with them.
                Event.objects.select_for_update().filter(pk=event_id).first()
                clock = (
                    SlaClock.objects.select_for_update()
                    .select_related("event__grid", "event__category")
                    .filter(pk=pk, stopped_at__isnull=True)
                    .first()
                )
                if clock is None:  # stopped meanwhile
                    continue
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
