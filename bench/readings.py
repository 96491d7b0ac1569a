#!/usr/bin/env python3
"""Sensor readings ingested and evaluated (issue #17 item 7), beside the raw COPY rate of the same rows.

    createdb -h 127.0.0.1 -U postgres citygov_h17_bench      # emptied by the bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/citygov_h17_bench .venv/bin/python bench/readings.py

Resets the database, loads the demo city, creates one indicator (waterlogging depth, for 10 minutes)
and `clients × sensors` sensors spread over the city's grids, a few of them "hot" (they cross the
thresholds, fire warnings and file events through the normal intake). Then, on PostgreSQL:

1. HTTP: gunicorn on 127.0.0.1 (`--workers`), `--clients` concurrent clients each POSTing
   `--batches` JSON batches of 10,000 readings for its own sensors (the way an IoT platform's
   partitions would; two clients never lock the same sensor) with an integrator's token;
   readings/s = all readings / wall time.
2. In-process: the same service (operations.services.readings) called directly on further batches,
   split into its parts: row checks, the pure rule evaluation (vitals.rules, alone, as a peer), and
   the service's own steps as it runs them (row locks, COPY, evaluation with warning rows and events,
   device-fault lift, sensor-state UPDATE).
3. The limit: COPY of the same rows into a table of the same shape (partitioned by day, primary key
   (sensor, at)), through the same driver, in text and in binary format (the service uses binary).

Two batch shapes by default (`--shapes`): 5,000 sensors × 2 readings and 10,000 sensors × 1 reading
per batch, each on its own sensors. `--profile` also runs one batch through Django's test client (the
whole HTTP stack in-process: middleware, DRF, token auth, the service) under cProfile.

Prints figures and `uptime` before and after; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citygov.settings.dev")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("LOG_LEVEL", "ERROR")
os.environ.setdefault("DEBUG", "0")

BATCH = 10_000
T0 = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=6)


def setup() -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database (it will be emptied).")
    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    call_command("migrate", verbosity=0)
    from fixtures.demo_city import load_demo_city

    load_demo_city()


def make_indicator():
    from incidents.models import Category
    from vitals.models import Indicator

    return Indicator.objects.create(
        code="bench-depth", name="路面积水深度", domain="城市生命线", group="排水", unit="cm",
        thresholds={"blue": 10, "yellow": 15, "orange": 27, "red": 40}, for_minutes=10, recovery=5,
        category=Category.objects.get(code="E0402"),
    )  # fmt: skip


def make_sensors(indicator, prefix: str, count: int, hot: float) -> tuple[list[str], set[str]]:
    from accounts.grid_index import locate_grid_id
    from accounts.models import OrgUnit
    from vitals.models import Sensor

    paths = dict(OrgUnit.objects.filter(tier=5).values_list("id", "path"))
    rng = random.Random(17)
    sensors = []
    for i in range(count):
        lat, lon = 30.0005 + rng.random() * 0.199, 120.0005 + rng.random() * 0.299
        grid_id = locate_grid_id(lat, lon)
        code = f"{prefix}-{i:06d}"
        sensor = Sensor(code=code, name=f"积水 {code}", indicator=indicator, latitude=lat, longitude=lon)
        sensor.grid_id, sensor.area_path = grid_id, paths[grid_id]
        sensors.append(sensor)
    Sensor.objects.bulk_create(sensors, batch_size=5000)
    hot_codes = {s.code for s in rng.sample(sensors, max(1, int(count * hot)))}
    return [s.code for s in sensors], hot_codes


def batch_rows(codes: list[str], start_minute: int, hot: set[str], per_sensor: int) -> list[dict]:
    rows = []
    for k in range(per_sensor):
        minute = start_minute + k
        at = (T0 + timedelta(minutes=minute)).isoformat()
        for code in codes:
            value = 20.0 + (minute % 7) if code in hot and minute >= 5 else (minute * 7 + len(code)) % 5 * 0.5
            rows.append({"sensor": code, "value": value, "at": at})
    return rows


def token_for_integrator() -> str:
    from rest_framework.authtoken.models import Token

    from accounts.models import OrgUnit, Role, User
    from accounts.services import membership_grant

    user = User.objects.create(username="bench_iot")
    membership_grant(user=user, role=Role.INTEGRATOR, org_unit=OrgUnit.objects.get(code="990100"))
    return Token.objects.create(user=user).key


def http(clients: list[list[str]], batches: int, hot: set[str], per_sensor: int, workers: int, token: str):
    bodies = [
        [json.dumps(batch_rows(codes, b * per_sensor, hot, per_sensor)).encode() for b in range(batches)]
        for codes in clients
    ]
    # Persistent connections as in production (citygov.settings.prod: DATABASE_CONN_MAX_AGE 60).
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="citygov.settings.dev", DEBUG="0", DATABASE_CONN_MAX_AGE="60")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "citygov.wsgi", "-b", "127.0.0.1:8767", "-w", str(workers),
         "--timeout", "120", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    time.sleep(4)
    answers: list[dict] = []
    latencies: list[float] = []

    def post(body: bytes) -> None:
        request = urllib.request.Request(
            "http://127.0.0.1:8767/api/v1/readings",
            data=body,
            headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
            answers.append(json.loads(response.read()))
        latencies.append(time.perf_counter() - started)

    def client(mine: list[bytes]) -> None:
        for body in mine:
            post(body)

    try:
        for _warm in range(2 * workers):  # every worker's imports and first connection
            post(json.dumps(batch_rows(clients[_warm % len(clients)][:10], -60 + _warm, set(), 1)).encode())
        answers.clear()
        latencies.clear()
        threads = [threading.Thread(target=client, args=(mine,)) for mine in bodies]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    accepted = sum(a["accepted"] for a in answers)
    return accepted, wall, sorted(latencies), sum(a["rejected"] for a in answers)


PARTS = {
    "row locks (SELECT … FOR UPDATE)": ("vitals.store", "lock_sensors"),
    "stored-pair check": ("vitals.store", "stored_pairs"),
    "COPY of the readings": ("vitals.store", "insert_readings"),
    "evaluation, warning rows, events": ("operations.services.readings", "_evaluate"),
    "device-fault lift": ("operations.services.readings", "device_fault_lift"),
    "sensor-state UPDATE": ("vitals.store", "save_sensor_state"),
}


SPENT: dict[str, float] = {}


def timed_parts() -> dict[str, float]:
    """Wrap the service's steps (module attributes it calls at run time) with timers, once; zeroed each call."""
    import importlib

    spent = SPENT
    wrapped = bool(spent)
    spent.update(dict.fromkeys(PARTS, 0.0))
    if wrapped:
        return spent
    for name, (module_name, attr) in PARTS.items():
        module = importlib.import_module(module_name)
        inner = getattr(module, attr)

        def wrapper(*args, _inner=inner, _name=name, **kwargs):
            started = time.perf_counter()
            try:
                return _inner(*args, **kwargs)
            finally:
                spent[_name] += time.perf_counter() - started

        setattr(module, attr, wrapper)
    return spent


def in_process(codes: list[str], batches: int, start_batch: int, hot: set[str], per_sensor: int):
    from accounts.models import User
    from operations.services.readings import readings_receive
    from vitals import rules
    from vitals.batch import check_rows
    from vitals.models import Indicator

    actor = User.objects.get(username="bench_iot")
    rule = Indicator.objects.get(code="bench-depth").rule()
    totals = {"checks": 0.0, "rule": 0.0, "service": 0.0, "readings": 0}
    spent = timed_parts()
    for b in range(start_batch, start_batch + batches):
        rows = batch_rows(codes, b * per_sensor, hot, per_sensor)
        started = time.perf_counter()
        good, _errors = check_rows(rows)
        totals["checks"] += time.perf_counter() - started
        by_sensor: dict[str, list[rules.Reading]] = {}
        for row in good:
            by_sensor.setdefault(row.sensor, []).append(rules.Reading(row.at, row.value))
        started = time.perf_counter()
        for readings in by_sensor.values():
            rules.evaluate(rule, rules.State(), readings)
        totals["rule"] += time.perf_counter() - started
        started = time.perf_counter()
        received = readings_receive(actor=actor, rows=rows)
        totals["service"] += time.perf_counter() - started
        totals["readings"] += received.accepted
    return totals, spent


def profile_http(codes: list[str], start_minute: int, hot: set[str], per_sensor: int, token: str) -> None:
    """One batch through the whole Django stack in-process (test client: middleware, DRF, auth, the service)."""
    import cProfile
    import pstats

    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    # A warm-up batch first: the first one pays the imports of event filing.
    warm = json.dumps(batch_rows(codes, start_minute, hot, per_sensor)).encode()
    client.post("/api/v1/readings", warm, content_type="application/json")
    body = json.dumps(batch_rows(codes, start_minute + per_sensor, hot, per_sensor)).encode()
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    response = client.post("/api/v1/readings", body, content_type="application/json")
    profiler.disable()
    wall = time.perf_counter() - started
    print(f"[profile] one batch of {BATCH:,} ({len(codes):,} sensors) through the test client: "
          f"{response.status_code}, {wall * 1000:.0f} ms under cProfile")  # fmt: skip
    stats = pstats.Stats(profiler).strip_dirs().sort_stats("cumulative")
    stats.print_stats(30)
    stats.sort_stats("tottime").print_stats(20)


def raw_copy(rows: list[tuple[int, datetime, float]], binary: bool) -> float:
    from django.db import connection, transaction

    from vitals.store import COPY_TYPES

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy")
        cursor.execute('CREATE TABLE bench_copy (LIKE vitals_reading INCLUDING ALL) PARTITION BY RANGE ("at")')
        cursor.execute("CREATE TABLE bench_copy_default PARTITION OF bench_copy DEFAULT")
        day = T0.date()
        for offset in range(-1, 2):
            low = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=offset)
            high = low + timedelta(days=1)
            cursor.execute(  # DDL takes no parameters: literal bounds
                f"CREATE TABLE bench_copy_{offset + 1} PARTITION OF bench_copy "
                f"FOR VALUES FROM ('{low.isoformat()}') TO ('{high.isoformat()}')"
            )
    statement = "COPY bench_copy (sensor_id, at, value) FROM STDIN" + (" (FORMAT BINARY)" if binary else "")
    started = time.perf_counter()
    for start in range(0, len(rows), BATCH):
        with transaction.atomic(), connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            if binary:
                copy.set_types(COPY_TYPES)
            for row in rows[start : start + BATCH]:
                copy.write_row(row)
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_copy")
    return len(rows) / elapsed


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def run_shape(indicator, prefix: str, args, token: str) -> None:
    from django.db import connection

    from vitals.models import Sensor

    per_sensor = BATCH // args.sensors_per_batch
    codes, hot = make_sensors(indicator, prefix, args.sensors_per_batch * args.clients, args.hot)
    clients = [codes[c * args.sensors_per_batch : (c + 1) * args.sensors_per_batch] for c in range(args.clients)]
    connection.close()
    accepted, wall, latencies, rejected = http(clients, args.batches, hot, per_sensor, args.workers, token)
    totals, spent = in_process(clients[0], args.in_process, args.batches, hot, per_sensor)
    if args.profile:
        profile_http(clients[-1], (args.batches + args.in_process) * per_sensor, hot, per_sensor, token)
    ids = dict(Sensor.objects.filter(code__startswith=f"{prefix}-").values_list("code", "id"))
    same_rows = [
        (ids[r["sensor"]], datetime.fromisoformat(r["at"]), r["value"])
        for codes_ in clients
        for b in range(args.batches)
        for r in batch_rows(codes_, b * per_sensor, hot, per_sensor)
    ]
    copy_text = raw_copy(same_rows, binary=False)
    copy_binary = raw_copy(same_rows, binary=True)
    limit = max(copy_text, copy_binary)
    rate = accepted / wall
    n = totals["readings"]
    print(f"[readings] {args.clients} clients × {args.batches} batches of {BATCH:,} readings: "
          f"{args.sensors_per_batch:,} sensors × {per_sensor} reading(s) per batch, {args.workers} gunicorn workers")  # fmt: skip
    print(f"  HTTP ingest + evaluate     {rate:10,.0f} readings/s   ({accepted:,} accepted, {rejected} rejected, "
          f"{wall:.2f} s; batch p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms)")  # fmt: skip
    print(f"  raw COPY, same rows, text  {copy_text:10,.0f} rows/s")
    print(f"  raw COPY, same rows, binary{copy_binary:10,.0f} rows/s       (ratio HTTP / best COPY = {rate / limit:.2f})")  # fmt: skip
    print(f"  in-process service         {n / totals['service']:10,.0f} readings/s   ({n:,} readings, one process)")  # fmt: skip
    print(f"    row checks               {totals['checks'] / n * 1e6:10.2f} µs/reading")
    print(f"    rule evaluation (pure)   {totals['rule'] / n * 1e6:10.2f} µs/reading  (peer, outside the service)")
    print(f"    service in all           {totals['service'] / n * 1e6:10.2f} µs/reading, of which:")
    for name, seconds in spent.items():
        print(f"      {name:<33}{seconds / n * 1e6:8.2f} µs/reading")
    rest = totals["service"] - sum(spent.values())
    print(f"      {'the rest (checks, commit, glue)':<33}{rest / n * 1e6:8.2f} µs/reading")
    print("  " + uptime())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shapes", default="5000,10000", help="sensors per batch, one run each (comma-separated)")
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--batches", type=int, default=10, help="batches per client over HTTP")
    parser.add_argument("--in-process", type=int, default=5, help="batches called in-process")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--hot", type=float, default=0.001, help="share of sensors that fire warnings")
    parser.add_argument("--profile", action="store_true", help="cProfile one batch through the Django stack")
    args = parser.parse_args()
    print("[readings] start: " + uptime())
    setup()
    indicator = make_indicator()
    token = token_for_integrator()
    for k, shape in enumerate(int(s) for s in args.shapes.split(",")):
        args.sensors_per_batch = shape
        run_shape(indicator, f"wl{k}", args, token)

    from incidents.models import Event
    from vitals.models import Reading, VitalWarning

    print(f"  stored {Reading.objects.count():,} readings, {VitalWarning.objects.count()} warnings, "
          f"{Event.objects.filter(source='sensor').count()} sensor events filed")  # fmt: skip


if __name__ == "__main__":
    main()
