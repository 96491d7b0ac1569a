"""Verify every event's history hash chain; name the first broken record."""

from django.core.management.base import BaseCommand, CommandError

from incidents.history import verify_event_chain
from incidents.models import EventRecord


class Command(BaseCommand):
    help = "Recompute every event's history hash chain and report the first broken record of each broken event."

    def add_arguments(self, parser):
        parser.add_argument("--event", help="Only this event code.")

    def handle(self, *args, **options):
        qs = EventRecord.objects.order_by("event_id", "seq")
        if options["event"]:
            qs = qs.filter(event__code=options["event"])
        broken = []
        checked = 0
        current_id, batch = None, []
        # One pass in event order; chunked so millions of records do not sit in memory.
        for rec in qs.iterator(chunk_size=5000):
            if rec.event_id != current_id:
                if batch:
                    checked += 1
                    if found := verify_event_chain(current_id, batch):
                        broken.append(found)
                current_id, batch = rec.event_id, []
            batch.append(rec)
        if batch:
            checked += 1
            if found := verify_event_chain(current_id, batch):
                broken.append(found)
        for b in broken:
            self.stderr.write(
                f"BROKEN event {b.event_code} (id {b.event_id}): record #{b.seq} (id {b.record_id}): {b.problem}"
            )
        if broken:
            raise CommandError(f"{len(broken)} of {checked} event histories are broken.")
        self.stdout.write(self.style.SUCCESS(f"All {checked} event histories verify."))
