import subprocess
import sys
from datetime import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from dispatch.routing import history_router
from incidents.generator import GenerationResult, Part, begin_bulk_load, end_bulk_load, generate, split


class Command(BaseCommand):
    help = (
        "Fill the database with a realistic event history (varied texts per category, departments from the "
        "routing rules, corrected wrong first dispatches, valid hash chains, running clocks): PostgreSQL COPY; "
        "other databases up to 20,000 events. --workers N loads in N processes (PostgreSQL)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--events", type=int, default=100_000)
        parser.add_argument("--days", type=int, default=365)
        parser.add_argument("--open-share", type=float, default=0.1)
        parser.add_argument("--due-now", type=int, default=0, help="How many running clocks are due right now.")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--workers", type=int, default=1, help="Processes loading together (PostgreSQL).")
        # One worker's share, given by the parent: first event, record and clock ids and the common now.
        parser.add_argument("--part", default="", help="(internal) first event, record, clock id, now; with commas")

    def handle(self, *args, **o):
        if o["events"] < 1 or o["workers"] < 1:
            raise CommandError("--events and --workers must be positive.")
        if o["workers"] > 1:
            result = self._parallel(o)
        else:
            part = None
            if o["part"]:
                event_id, record_id, clock_id, now = o["part"].split(",")
                part = Part((int(event_id), int(record_id), int(clock_id)), datetime.fromisoformat(now))
            try:
                result = generate(
                    o["events"], o["days"], o["open_share"], o["due_now"], o["seed"], router=history_router(), part=part
                )
            except RuntimeError as exc:
                raise CommandError(str(exc)) from None
        self.stdout.write(
            f"generated {result.events} events, {result.records} history records, {result.clocks} clocks "
            f"in {result.seconds:.1f} s ({result.events_per_second:,.0f} events/s)"
        )

    def _parallel(self, o) -> GenerationResult:
        """Drop the secondary indexes, run one worker process per part (each its own transaction and
        id ranges), then recreate the indexes, bump the sequences and analyze, also after a failure."""
        if connection.vendor != "postgresql":
            raise CommandError("--workers needs PostgreSQL.")
        started = timezone.now()
        parts = split(o["events"], o["workers"], o["due_now"], o["seed"], started)
        rebuild = begin_bulk_load()
        outputs = []
        try:
            procs = []
            for count, due, seed, part in parts:
                share = ",".join([*map(str, part.first_ids), part.now.isoformat()])
                argv = [sys.executable, "-m", "django", "generate_history", "--events", str(count), "--days"]
                argv += [str(o["days"]), "--open-share", str(o["open_share"]), "--due-now", str(due)]
                argv += ["--seed", str(seed), "--part", share]
                # This very command, with our own arguments.
                procs.append(subprocess.Popen(argv, cwd=settings.BASE_DIR, stdout=subprocess.PIPE, text=True))  # noqa: S603
            outputs = [proc.communicate()[0] for proc in procs]
            if any(proc.returncode for proc in procs):
                raise CommandError(f"a worker failed: {outputs}")
        finally:
            end_bulk_load(rebuild)
        records = clocks = 0
        for line in outputs:  # "generated N events, R history records, C clocks in ..."
            words = line.split()
            records, clocks = records + int(words[3]), clocks + int(words[6])
        return GenerationResult(o["events"], records, clocks, (timezone.now() - started).total_seconds())
