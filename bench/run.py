#!/usr/bin/env python3
"""citygov benchmarks on PostgreSQL. Prints figures; asserts nothing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/citygov_bench .venv/bin/python bench/run.py --sizes 10000,1000000
    ... bench/run.py --sizes 100000 --http 15 --rounds 3 --workers 2,3   # intake beside helpdesk and the plain tracker

The database is emptied and filled by `generate_history` at each size.
Measured in-process (Django test client for the list API and queue page;
the service functions for the sweep and the report). With `wrk` installed
and --http, also HTTP intake through gunicorn on 127.0.0.1 beside django-helpdesk and the
plain DRF tracker in alternating rounds (bench/intake_load.py), and pgbench.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citygov.settings.dev")
os.environ.setdefault("INTAKE_RATE_PER_USER_PER_MINUTE", "1000000")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("LOG_LEVEL", "ERROR")
os.environ.setdefault("DEBUG", "0")  # no query log: measure what production runs
# Persistent connections with health checks, as citygov.settings.prod defaults them (and as
# bench/profile_intake.py and the bench's gunicorn run): without them every test-client request
# opened a new PostgreSQL connection, and the in-process figure was mostly the connection's.
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "60")
os.environ.setdefault("DATABASE_CONN_HEALTH_CHECKS", "1")


def setup_django():
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database (it will be emptied).")


def reset_database():
    from django.core.management import call_command
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    call_command("migrate", verbosity=0)
    from fixtures.demo_city import load_demo_city

    load_demo_city()


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


def bench_size(size: int, due: int, repeat: int) -> dict:
    from datetime import timedelta

    from django.test import Client
    from django.utils import timezone

    from accounts.models import OrgUnit, User
    from dispatch.models import SlaClock
    from dispatch.reports import sla_report
    from dispatch.routing import history_router
    from incidents.generator import generate
    from incidents.models import Event
    from operations.sweep import sweep

    results = {}
    if size:
        reset_database()
        gen = generate(size, days=365, open_share=0.1, due_now=due, router=history_router())
        print(f"[{size:>9,} events] generated in {gen.seconds:.1f} s ({gen.events_per_second:,.0f} events/s, "
              f"{gen.records:,} records, {gen.clocks:,} clocks)", flush=True)  # fmt: skip
        results["generate_eps"] = gen.events_per_second
    else:  # --measure-only: the database as it is (its due clocks may already be swept)
        size = Event.objects.count()
    # Steady state: autovacuum has set the visibility map, so counts can be index-only.
    from django.db import connection

    t = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE incidents_event, incidents_eventrecord, dispatch_slaclock")
    print(f"[{size:>9,} events] VACUUM ANALYZE (not counted above): {time.perf_counter() - t:.1f} s", flush=True)

    t = time.perf_counter()
    swept = sweep(timezone.now(), batch=due + 10)
    results["sweep_ms"] = (time.perf_counter() - t) * 1000
    print(f"[{size:>9,} events] sweep: {swept.checked} due clocks in {results['sweep_ms']:.0f} ms "
          f"(open clocks {SlaClock.objects.filter(stopped_at__isnull=True).count():,})", flush=True)  # fmt: skip

    for username in ("op_nanhu", "op_city"):
        client = Client()
        client.force_login(User.objects.get(username=username))
        client.get("/api/v1/events")  # warm
        api = timed(lambda c=client: c.get("/api/v1/events"), repeat)
        page = timed(lambda c=client: c.get("/console/"), repeat)
        results[f"{username}_api_p50"], results[f"{username}_api_p95"] = pct(api, 50), pct(api, 95)
        results[f"{username}_queue_p50"], results[f"{username}_queue_p95"] = pct(page, 50), pct(page, 95)
        print(f"[{size:>9,} events] {username:<9} list API p50 {pct(api, 50):6.1f} ms p95 {pct(api, 95):6.1f} ms | "
              f"queue page p50 {pct(page, 50):6.1f} ms p95 {pct(page, 95):6.1f} ms", flush=True)  # fmt: skip

    supervisor = User.objects.get(username="sup_jiangnan")
    district = OrgUnit.objects.get(code="990102")
    today = timezone.localdate()
    report = timed(lambda: sla_report(supervisor, unit=district, start=today - timedelta(days=365), end=today), 3)
    results["report_ms"] = statistics.median(report)
    print(f"[{size:>9,} events] district-year report: median {results['report_ms']:.0f} ms", flush=True)
    return results


def bench_intake_inprocess(repeat: int) -> None:
    """One intake in-process (Django test client, token authentication, as one street operator at one
    place: the cost of the path, not of the load), auto-dispatch and suggest: milliseconds and SQL
    statements (their list: tests/operations/test_intake_statements.py)."""
    from django.db import connection
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from accounts.models import User
    from tests.factories import point_in

    token = Token.objects.get_or_create(user=User.objects.get(username="op_nanhu"))[0].key
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    lat, lon = point_in("99010200100101")
    for category, kind in (("E0101", "auto-dispatch"), ("E0601", "suggest")):
        body = {"title": "bench", "category": category, "latitude": lat, "longitude": lon}

        def post(b=body):
            response = client.post("/api/v1/events", b, content_type="application/json")
            if response.status_code != 201:
                raise SystemExit(f"intake answered {response.status_code}: {response.content[:300]!r}")

        post()  # warm
        statements: list[str] = []

        def count(run, sql, *args, seen=statements):
            seen.append(sql)
            return run(sql, *args)

        with connection.execute_wrapper(count):
            post()
        cpu = time.process_time()
        times = timed(post, repeat)
        cpu_ms = (time.process_time() - cpu) * 1000 / repeat  # this process: client + Django, not PostgreSQL
        print(f"[intake in-process] {kind:<13} ({category}) p50 {pct(times, 50):5.2f} ms  p90 {pct(times, 90):5.2f} ms  "
              f"CPU {cpu_ms:5.2f} ms  {len(statements)} statements  (load average {os.getloadavg()[0]:.2f})", flush=True)  # fmt: skip


def bench_pgbench(seconds: int) -> None:
    """PostgreSQL's own three-statement write transaction, for scale."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    pg_env = dict(os.environ, PGHOST=db["HOST"], PGPORT=str(db["PORT"]), PGUSER=db["USER"])
    name = f"{db['NAME']}_pgbench"
    subprocess.run(["dropdb", "--if-exists", name], env=pg_env, check=True)
    subprocess.run(["createdb", name], env=pg_env, check=True)
    subprocess.run(["pgbench", "-q", "-i", "-s", "10", name], env=pg_env, check=True, capture_output=True)
    out = subprocess.run(
        ["pgbench", "-N", "-c", "16", "-j", "2", "-T", str(seconds), "-r", name],
        env=pg_env, capture_output=True, text=True,
    ).stdout  # fmt: skip
    tps = next((line.split()[2] for line in out.splitlines() if line.startswith("tps =")), "?")
    latency = next((line.split()[-2] for line in out.splitlines() if line.startswith("latency average")), "?")
    print(f"[pgbench] -N (3 statements), 16 clients: {tps} tx/s, mean {latency} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--http", type=int, default=0, help="seconds of HTTP intake load (needs wrk)")
    parser.add_argument("--measure-only", action="store_true", help="measure the database as it is; no reset")
    parser.add_argument("--http-only", action="store_true", help="only the intake figures, on the database as it is")
    parser.add_argument("--workers", default="2", help="gunicorn workers per server, e.g. 2,3,4 (each measured)")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per server")
    parser.add_argument("--port", type=int, default=18765, help="first of three ports on 127.0.0.1")
    parser.add_argument(
        "--peer-driver",
        default="same",
        choices=["same", "django"],
        help="the peers' PostgreSQL driver options: citygov's (same) or Django's defaults (client-side binding)",
    )
    args = parser.parse_args()
    setup_django()
    if args.measure_only and not args.http_only:
        bench_size(0, args.due, args.repeat)
    for size in [int(s) for s in args.sizes.split(",") if s and not (args.measure_only or args.http_only)]:
        bench_size(size, args.due, args.repeat)
    bench_intake_inprocess(args.repeat)
    if args.http:
        from bench.intake_load import bench_http

        workers = [int(w) for w in args.workers.split(",") if w]
        bench_http(args.http, workers, args.threads, args.rounds, args.port, same_driver=args.peer_driver == "same")
        bench_pgbench(args.http)


if __name__ == "__main__":
    main()
