from django.core.management.base import BaseCommand, CommandError

from incidents.generator import generate


class Command(BaseCommand):
    help = "Fill PostgreSQL with a realistic event history (valid hash chains, running clocks) for benchmarks."

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
            result = generate(o["events"], o["days"], o["open_share"], o["due_now"], o["seed"])
        except RuntimeError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"generated {result.events} events, {result.records} history records, {result.clocks} clocks "
            f"in {result.seconds:.1f} s ({result.events_per_second:,.0f} events/s)"
        )
