"""Verify every event's history from the event row: records, chain, count == version, anchor."""

from django.core.management.base import BaseCommand, CommandError

from incidents.history import event_histories, reanchor, verify_event_chain


class Command(BaseCommand):
    help = (
        "Check every event's history: it has records, its hash chain links, it has as many records as "
        "the event's version (no missing tail), and the anchor on the event matches the last record and "
        "the event row. Names what is wrong with each broken event; exits non-zero if any is."
    )

    def add_arguments(self, parser):
        parser.add_argument("--event", help="Only this event code.")
        parser.add_argument("--batch", type=int, default=2000, help="Events read per query (default 2000).")
        parser.add_argument(
            "--reanchor",
            action="store_true",
            help=(
                "Seal again, over the records and rows as they are now, every event whose chain and count "
                "verify but whose anchor does not: only after HISTORY_HMAC_KEY (or SECRET_KEY without one) "
                "changed. It trusts today's rows, so run it only when nobody can have changed them."
            ),
        )

    def handle(self, *args, **options):
        if options["batch"] < 1:
            raise CommandError("--batch must be positive.")
        broken, checked, sealed = [], 0, 0
        for event, records in event_histories(options["batch"], options["event"]):
            checked += 1
            found = verify_event_chain(event.pk, records, event=event)
            if found and found.anchor_only and options["reanchor"]:
                reanchor(event, records)
                sealed += 1
            elif found:
                broken.append(found)
        if options["event"] and not checked:
            raise CommandError(f"No event {options['event']}.")
        for b in broken:
            where = f"record #{b.seq} (id {b.record_id}): " if b.record_id is not None else ""
            self.stderr.write(f"BROKEN event {b.event_code} (id {b.event_id}): {where}{b.problem}")
        if sealed:
            self.stdout.write(f"Sealed {sealed} events again over their current records and rows.")
        if broken:
            raise CommandError(f"{len(broken)} of {checked} event histories are broken.")
        self.stdout.write(self.style.SUCCESS(f"All {checked} event histories verify."))
