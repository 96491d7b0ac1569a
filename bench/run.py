#!/usr/bin/env python3
"""citygov benchmarks on PostgreSQL. Prints figures; asserts nothing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/citygov_bench .venv/bin/python bench/run.py --sizes 10000,1000000

The database is emptied and filled by `generate_history` at each size.
Measured in-process (Django test client for the list API and queue page;
the service functions for the sweep and the report). With `wrk` installed
and --http, also HTTP intake through gunicorn on 127.0.0.1.
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


WRK_REQUEST = """
wrk.method = "POST"
wrk.headers["Authorization"] = "Token %(token)s"
wrk.headers["Content-Type"] = "application/json"
math.randomseed(%(seed)d)
request = function()
  local lat = %(lat)f + (math.random() - 0.5) * 0.002
  local lon = %(lon)f + (math.random() - 0.5) * 0.002
  return wrk.format(nil, nil, nil, string.format(
    '{"title": "bench", "category": "E0601", "latitude": %%.6f, "longitude": %%.6f}', lat, lon))
end
"""


def wrk(url: str, lua: Path, seconds: int) -> dict:
    """16 connections on 2 threads; requests/s and latency percentiles from wrk --latency."""
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", "16", "-d", f"{seconds}s", "--latency", "-s", str(lua), url],
        capture_output=True,
        text=True,
    ).stdout
    figures = {"raw": out}
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            figures["rps"] = float(parts[1])
        elif len(parts) == 2 and parts[0] in ("50%", "99%"):
            figures[parts[0]] = parts[1]
        elif "Non-2xx" in line:
            figures["non2xx"] = int(parts[-1])
    return figures


def gunicorn(app: str, port: int, env: dict, workers: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            app,
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    time.sleep(3)
    return server


def bench_http(seconds: int, workers: int) -> None:
    """HTTP intake through gunicorn with wrk, 16 connections, on 127.0.0.1, beside two peers:
    a plain Django + DRF ticket tracker (bench/peer) and pgbench's three-statement write transaction."""
    from django.conf import settings
    from rest_framework.authtoken.models import Token

    from accounts.models import User
    from tests.factories import point_in

    if subprocess.run(["which", "wrk"], capture_output=True).returncode != 0:
        print("[http] wrk not installed (apt-get install wrk): skipped")
        return
    var = ROOT / "var"
    var.mkdir(exist_ok=True)
    lat, lon = point_in("99010200100101")
    rows = []

    token = Token.objects.get_or_create(user=User.objects.get(username="op_nanhu"))[0].key
    lua = var / "intake.lua"
    lua.write_text(WRK_REQUEST % {"token": token, "seed": 1, "lat": lat, "lon": lon})
    server = gunicorn(
        "citygov.wsgi", 8765, dict(os.environ, DJANGO_SETTINGS_MODULE="citygov.settings.dev", DEBUG="0"), workers
    )
    try:
        rows.append(("citygov POST /api/v1/events", wrk("http://127.0.0.1:8765/api/v1/events", lua, seconds)))
    finally:
        server.terminate()
        server.wait(timeout=30)

    db = settings.DATABASES["default"]
    admin_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}"
    peer_url = f"{admin_url}/citygov_bench_peer"
    psql = ["psql", "-q", "-h", db["HOST"], "-p", str(db["PORT"]), "-U", db["USER"], "-d", db["NAME"]]
    subprocess.run([*psql, "-c", "DROP DATABASE IF EXISTS citygov_bench_peer"], check=True)
    subprocess.run([*psql, "-c", "CREATE DATABASE citygov_bench_peer"], check=True)
    peer_env = dict(
        os.environ,
        PYTHONPATH=str(ROOT / "bench" / "peer"),
        DJANGO_SETTINGS_MODULE="settings",
        PEER_DATABASE_URL=peer_url,
    )
    subprocess.run([sys.executable, "-m", "django", "migrate", "-v0"], env=peer_env, check=True)
    peer_token = subprocess.run(
        [sys.executable, "-c", PEER_SETUP_SCRIPT], env=peer_env, check=True, capture_output=True, text=True
    ).stdout.strip()
    peer_lua = var / "peer.lua"
    peer_lua.write_text(WRK_REQUEST % {"token": peer_token, "seed": 1, "lat": lat, "lon": lon})
    server = gunicorn("django.core.wsgi:get_wsgi_application()", 8766, peer_env, workers)
    try:
        rows.append(("peer: plain Django+DRF tickets", wrk("http://127.0.0.1:8766/tickets", peer_lua, seconds)))
    finally:
        server.terminate()
        server.wait(timeout=30)

    pg_env = dict(os.environ, PGHOST=db["HOST"], PGPORT=str(db["PORT"]), PGUSER=db["USER"])
    subprocess.run(["dropdb", "--if-exists", "citygov_bench_pgbench"], env=pg_env, check=True)
    subprocess.run(["createdb", "citygov_bench_pgbench"], env=pg_env, check=True)
    subprocess.run(
        ["pgbench", "-q", "-i", "-s", "10", "citygov_bench_pgbench"], env=pg_env, check=True, capture_output=True
    )
    out = subprocess.run(
        ["pgbench", "-N", "-c", "16", "-j", "2", "-T", str(seconds), "-r", "citygov_bench_pgbench"],
        env=pg_env,
        capture_output=True,
        text=True,
    ).stdout
    tps = next((line.split()[2] for line in out.splitlines() if line.startswith("tps =")), "?")
    latency = next((line.split()[-2] for line in out.splitlines() if line.startswith("latency average")), "?")

    print(f"[http] 16 connections on 127.0.0.1, {workers} gunicorn workers each:")
    for name, fig in rows:
        print(f"  {name:<32} {fig.get('rps', 0):8.1f} req/s   p50 {fig.get('50%', '?'):>9}   "
              f"p99 {fig.get('99%', '?'):>9}   non-2xx {fig.get('non2xx', 0)}")  # fmt: skip
    print(f"  {'peer: pgbench -N (3 statements)':<32} {float(tps):8.1f} tx/s    mean {latency} ms")


PEER_SETUP_SCRIPT = """
import django
django.setup()
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
user = User.objects.create_user("bench")
print(Token.objects.create(user=user).key)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--http", type=int, default=0, help="seconds of HTTP intake load (needs wrk)")
    parser.add_argument("--measure-only", action="store_true", help="measure the database as it is; no reset")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2 measured best on 2 cores)")
    args = parser.parse_args()
    setup_django()
    if args.measure_only:
        bench_size(0, args.due, args.repeat)
    for size in [int(s) for s in args.sizes.split(",") if s and not args.measure_only]:
        bench_size(size, args.due, args.repeat)
    if args.http:
        bench_http(args.http, args.workers)


if __name__ == "__main__":
    main()
