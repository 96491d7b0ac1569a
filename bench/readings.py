#!/usr/bin/env python3
"""Sensor readings ingested and evaluated (issue #17 item 7), beside the raw COPY rate of the same rows.

    createdb -h 127.0.0.1 -U postgres citygov_bench_h17      # emptied by the bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/citygov_bench_h17 .venv/bin/python bench/readings.py

Resets the database, loads the demo city, creates one indicator (waterlogging depth, for 10 minutes)
and `clients × sensors` sensors spread over the city's grids, a few of them "hot" (they cross the
thresholds, fire warnings and file events through the normal intake). Then, on PostgreSQL:

1. HTTP: gunicorn on 127.0.0.1 (`--workers`), `--clients` concurrent clients each POSTing
   `--batches` JSON batches of 10,000 readings for its own sensors (the way an IoT platform's
   partitions would; two clients never lock the same sensor) with an integrator's token;
   readings/s = all readings / wall time.
2. In-process: the same service (operations.services.readings) called directly on further batches,
   split into its parts: row checks, the pure rule evaluation (vitals.rules) and the rest
   (locks, COPY, warning rows, sensor state, events).
3. The limit: COPY of the same rows into a table of the same shape (partitioned by day, primary key
   (sensor, at)), through the same driver.

Prints figures and `uptime`; asserts nothing.
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


def make_sensors(count: int, hot: float):
    from accounts.grid_index import locate_grid_id
    from accounts.models import OrgUnit
    from incidents.models import Category
    from vitals.models import Indicator, Sensor

    indicator = Indicator.objects.create(
        code="bench-depth", name="路面积水深度", domain="城市生命线", group="排水", unit="cm",
        thresholds={"blue": 10, "yellow": 15, "orange": 27, "red": 40}, for_minutes=10, recovery=5,
        category=Category.objects.get(code="E0402"),
    )  # fmt: skip
    paths = dict(OrgUnit.objects.filter(tier=5).values_list("id", "path"))
    rng = random.Random(17)
    sensors = []
    for i in range(count):
        lat, lon = 30.0005 + rng.random() * 0.199, 120.0005 + rng.random() * 0.299
        grid_id = locate_grid_id(lat, lon)
        sensor = Sensor(code=f"wl-{i:06d}", name=f"积水 {i}", indicator=indicator, latitude=lat, longitude=lon)
        sensor.grid_id, sensor.area_path = grid_id, paths[grid_id]
        sensors.append(sensor)
    Sensor.objects.bulk_create(sensors, batch_size=5000)
    hot_codes = {s.code for s in rng.sample(sensors, max(1, int(count * hot)))}
    return hot_codes


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
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="citygov.settings.dev", DEBUG="0")
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
        post(json.dumps(batch_rows(clients[0][:10], -60, set(), 1)).encode())  # warm both workers' imports
        post(json.dumps(batch_rows(clients[-1][:10], -60, set(), 1)).encode())
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


def in_process(codes: list[str], batches: int, start_batch: int, hot: set[str], per_sensor: int):
    from accounts.models import User
    from operations.services.readings import readings_receive
    from vitals import rules
    from vitals.batch import check_rows
    from vitals.models import Indicator

    actor = User.objects.get(username="bench_iot")
    rule = Indicator.objects.get(code="bench-depth").rule()
    totals = {"checks": 0.0, "rule": 0.0, "service": 0.0, "readings": 0}
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
    return totals


def raw_copy(rows: list[tuple[int, datetime, float]]) -> float:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy")
        cursor.execute('CREATE TABLE bench_copy (LIKE vitals_reading INCLUDING ALL) PARTITION BY RANGE ("at")')
        cursor.execute("CREATE TABLE bench_copy_default PARTITION OF bench_copy DEFAULT")
        day = T0.date()
        for offset in range(-1, 2):
            low = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=offset)
            cursor.execute(
                f"CREATE TABLE bench_copy_{offset + 1} PARTITION OF bench_copy FOR VALUES FROM (%s) TO (%s)",
                [low, low + timedelta(days=1)],
            )
    started = time.perf_counter()
    for start in range(0, len(rows), BATCH):
        with (
            transaction.atomic(),
            connection.cursor() as cursor,
            cursor.cursor.copy("COPY bench_copy (sensor_id, at, value) FROM STDIN") as copy,
        ):
            for row in rows[start : start + BATCH]:
                copy.write_row(row)
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_copy")
    return len(rows) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sensors", type=int, default=5000, help="sensors per client")
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--batches", type=int, default=10, help="batches per client over HTTP")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--hot", type=float, default=0.001, help="share of sensors that fire warnings")
    args = parser.parse_args()
    per_sensor = BATCH // args.sensors
    setup()
    hot = make_sensors(args.sensors * args.clients, args.hot)
    token = token_for_integrator()
    codes = [f"wl-{i:06d}" for i in range(args.sensors * args.clients)]
    clients = [codes[c * args.sensors : (c + 1) * args.sensors] for c in range(args.clients)]

    accepted, wall, latencies, rejected = http(clients, args.batches, hot, per_sensor, args.workers, token)
    from django.db import connection

    connection.close()
    totals = in_process(clients[0], 5, args.batches, hot, per_sensor)

    from vitals.models import Reading, Sensor, VitalWarning

    ids = dict(Sensor.objects.values_list("code", "id"))
    same_rows = [
        (ids[r["sensor"]], datetime.fromisoformat(r["at"]), r["value"])
        for codes_ in clients
        for b in range(args.batches)
        for r in batch_rows(codes_, b * per_sensor, hot, per_sensor)
    ]
    copy_rate = raw_copy(same_rows)

    from incidents.models import Event

    n = totals["readings"]
    print(f"[readings] {args.clients} clients × {args.batches} batches of {BATCH:,} readings "
          f"({args.sensors:,} sensors each, {per_sensor} readings per sensor a batch), {args.workers} gunicorn workers")  # fmt: skip
    print(f"  HTTP ingest + evaluate     {accepted / wall:10,.0f} readings/s   ({accepted:,} accepted, {rejected} rejected, "
          f"{wall:.2f} s; batch p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms)")  # fmt: skip
    print(f"  raw COPY, same rows        {copy_rate:10,.0f} rows/s       (ratio HTTP / COPY = {accepted / wall / copy_rate:.2f})")  # fmt: skip
    print(f"  in-process service         {n / totals['service']:10,.0f} readings/s   ({n:,} readings, one process)")  # fmt: skip
    print(f"    row checks               {totals['checks'] / n * 1e6:10.2f} µs/reading")
    print(f"    rule evaluation (pure)   {totals['rule'] / n * 1e6:10.2f} µs/reading")
    print(f"    service in all           {totals['service'] / n * 1e6:10.2f} µs/reading")
    print(f"  stored {Reading.objects.count():,} readings, {VitalWarning.objects.count()} warnings, "
          f"{Event.objects.filter(source='sensor').count()} sensor events filed")  # fmt: skip
    print("  " + subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
