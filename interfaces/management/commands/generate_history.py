from django.core.management.base import BaseCommand, CommandError

from dispatch.routing import history_router
from incidents.generator import generate


class Command(BaseCommand):
    help = (
        "Fill the database with a realistic event history (varied texts per category, departments from the "
        "routing rules, corrected wrong first dispatches, valid hash chains, running clocks): PostgreSQL COPY; "
        "other databases up to 20,000 events."
    )

    def add_arguments(self, parser):
        parser.add_argument("--events", type=int, default=100_000)
        parser.add_argument("--days", type=int, default=365)
        parser.add_argument("--open-share", type=float, default=0.1)
        parser.add_argument("--due-now", type=int, default=0, help="How many running clocks are due right now.")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, **o):
        if o["events"] < 1:
            raise CommandError("--events must be positive.")
        try:
            result = generate(o["events"], o["days"], o["open_share"], o["due_now"], o["seed"], router=history_router())
        except RuntimeError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"generated {result.events} events, {result.records} history records, {result.clocks} clocks "
            f"in {result.seconds:.1f} s ({result.events_per_second:,.0f} events/s)"
        )
