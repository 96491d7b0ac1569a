#!/usr/bin/env python3
"""The evaluation report at city scale (#15 item 5), from daily roll-ups beside the live query. PostgreSQL only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/citygov_bench_h15a \\
        .venv/bin/python bench/report.py --generate 5000000      # empties the database, fills it, rolls up
    DATABASE_URL=... .venv/bin/python bench/report.py             # measure the database as it is

Times the district-year report (sla_report), the department ranking for a year
(department_ranking_rows) and the monthly trend for a year (monthly_trend), each from the
roll-ups (the default source) and live (source="live", the reference), as ms p50/p95 and their
ratio, beside a plain count of the same events (the cheapest possible read of the period), with
the load average. Checks once that both sources give the same figures. Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citygov.settings.dev")
os.environ.setdefault("LOG_LEVEL", "ERROR")
os.environ.setdefault("DEBUG", "0")  # no query log: measure what production runs


def setup_django():
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database (--generate empties it).")


def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def generate(size: int, workers: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    from fixtures.demo_city import load_demo_city

    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    call_command("migrate", verbosity=0)
    load_demo_city()
    t = time.perf_counter()
    call_command("generate_history", events=size, days=365, open_share=0.1, due_now=1000, workers=workers)
    seconds = time.perf_counter() - t
    print(
        f"[{size:,} events] generated in {seconds:.0f} s ({size / seconds:,.0f} events/s, {workers} process(es), "
        "indexes rebuilt and analyzed)",
        flush=True,
    )
    print(uptime(), flush=True)


def rebuild(workers: int) -> None:
    from django.db.models import Max, Min
    from django.utils import timezone

    from dispatch.rollups import rebuild_range, report_day
    from incidents.models import Event

    span = Event.objects.aggregate(first=Min("reported_at"), last=Max("reported_at"))
    t = time.perf_counter()
    # From the first of the month, as rollup_rebuild does: a whole month can be read from its sum.
    first = report_day(span["first"]).replace(day=1)
    events = rebuild_range(first, max(timezone.localdate(), report_day(span["last"])), workers=workers)
    print(f"rollup_rebuild: {events:,} events in {time.perf_counter() - t:.0f} s, {workers} process(es)", flush=True)
    print(uptime(), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--generate", type=int, default=0, help="empty the database and generate this many events")
    parser.add_argument("--workers", type=int, default=1, help="processes generating, then rolling up, together")
    parser.add_argument("--rebuild", action="store_true", help="rebuild every day's roll-up first")
    parser.add_argument("--repeat", type=int, default=30, help="runs of each roll-up read")
    parser.add_argument(
        "--live-repeat", type=int, default=1, help="runs of each live read (seconds to minutes each; 0: none)"
    )
    args = parser.parse_args()
    setup_django()
    if args.generate:
        generate(args.generate, args.workers)
    if args.generate or args.rebuild:
        rebuild(args.workers)

    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from accounts.models import OrgUnit, User
    from dispatch.figures import period_bounds
    from dispatch.models import DailyRollup
    from dispatch.reports import department_ranking_rows, monthly_trend, sla_report
    from incidents.models import Event

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE dispatch_dailyrollup, dispatch_rollupday, dispatch_rollupmark")
    supervisor = User.objects.get(username="sup_jiangnan")
    district = OrgUnit.objects.get(code="990102")
    today = timezone.localdate()
    start, end = today - timedelta(days=365), today
    year = today.year
    since, until = period_bounds(start, end)
    scope = Event.objects.filter(area_path__startswith=district.path, reported_at__gte=since, reported_at__lt=until)
    print(
        f"{Event.objects.count():,} events; district {district.code}: {scope.count():,} in the year; "
        f"{DailyRollup.objects.count():,} roll-up rows",
        flush=True,
    )

    def report(source):
        return sla_report(supervisor, unit=district, start=start, end=end, source=source)

    def ranking(source):
        return department_ranking_rows(supervisor, unit=district, start=start, end=end, source=source)

    def trend(source):
        return monthly_trend(supervisor, unit=district, year=year, source=source)

    def figures(name, result):
        if name == "monthly trend, year":
            return [(m, r.as_dict()) for m, r in result]
        rows = result.by_department + result.by_region + [result.total] if name == "district-year report" else result
        return [r.as_dict() for r in rows]

    plain = timed(lambda: scope.count(), args.repeat)
    print(
        f"{'peer: plain count of the year':<26} p50 {pct(plain, 50):7.1f} ms p95 {pct(plain, 95):7.1f} ms", flush=True
    )
    for name, fn in (
        ("district-year report", report),
        ("department ranking, year", ranking),
        ("monthly trend, year", trend),
    ):
        fn("rollup")  # warm
        fast = timed(lambda f=fn: f("rollup"), args.repeat)
        line = f"{name:<26} roll-up p50 {pct(fast, 50):7.1f} ms p95 {pct(fast, 95):7.1f} ms"
        if args.live_repeat:
            slow, live = [], None
            for _ in range(args.live_repeat):
                t = time.perf_counter()
                live = fn("live")
                slow.append((time.perf_counter() - t) * 1000)
            # Same figures from both sources (the property test's claim, on this database).
            same = figures(name, fn("rollup")) == figures(name, live)
            line += (
                f" | live p50 {pct(slow, 50):8.0f} ms p95 {pct(slow, 95):8.0f} ms | live/roll-up "
                f"{pct(slow, 50) / pct(fast, 50):6.0f}x | same figures: {'yes' if same else 'NO'}"
            )
        else:
            line += " | live not run (--live-repeat 0)"
        print(line, flush=True)
    print(uptime())


if __name__ == "__main__":
    main()
