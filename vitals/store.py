"""Reading and writing the vital-signs tables in bulk, for the ingestion service (operations.services.readings).

One batch: lock its sensors, find which of its readings are already stored, store the rest (COPY on
PostgreSQL, one multi-row INSERT elsewhere), load and save the evaluator's per-sensor state. Nothing
here files events; nothing here decides a warning (vitals.rules does).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, NamedTuple

import psycopg
from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

from vitals import rules
from vitals.models import Indicator, Reading, Sensor, VitalWarning, WarningKind
from vitals.models.warnings import OPEN_WARNING_STATES


def any_of(field: str, values: Iterable[object], sql_type: str) -> Q:
    """`field IN values` as one array parameter on PostgreSQL (`= ANY(%s)`): a batch names thousands of
    sensors, and a parameter each costs the driver more than the query. A plain IN list elsewhere."""
    values = list(values)
    if connection.vendor != "postgresql":
        return Q(**{f"{field}__in": values})
    # The type is one of the callers' literals, the values a bound parameter.
    return Q(**{f"{field}__in": RawSQL(f"SELECT unnest(%s::{sql_type}[])", [values])})  # noqa: S611


class Held(NamedTuple):
    """A locked sensor as the evaluation needs it (a tuple: a batch locks thousands, and a model
    instance each cost more than the rest of their evaluation)."""

    id: int
    code: str
    indicator_id: int
    last_at: datetime | None
    last_value: float | None


def lock_sensors(codes: Iterable[str], scope: Q) -> dict[str, Held]:
    """The batch's sensors inside `scope`, by code, row-locked in id order (two batches never deadlock).

    Concurrent batches for one sensor queue here, so its readings are evaluated in one order.
    """
    qs = Sensor.objects.filter(scope, any_of("code", codes, "text"), is_active=True).order_by("id")
    # Only the sensor rows (SQLite has no row locks; its writers queue on the database lock).
    qs = qs.select_for_update(of=("self",))
    columns = qs.values_list("id", "code", "indicator_id", "last_at", "last_value")
    if connection.vendor != "postgresql":
        return {row[1]: Held(*row) for row in columns}
    sql, params = columns.query.sql_with_params()
    with bound_cursor() as cursor:
        cursor.execute(sql, params)
        return {row[1]: Held(*row) for row in cursor}


@contextmanager
def bound_cursor() -> Iterator[Any]:
    """A psycopg cursor with server-side parameters on Django's connection (so in its transaction).

    Django's psycopg cursors bind on the client: each array of thousands of codes or ids is quoted
    into the statement text element by element, in Python. Bound on the server, psycopg's C dumper
    sends it as one array value, and a 5,000-sensor batch spends its time in the database instead.
    """
    connection.ensure_connection()
    cursor = psycopg.Cursor(connection.connection)
    try:
        yield cursor
    finally:
        cursor.close()


def sensors_of(ids: Iterable[int]) -> dict[int, Sensor]:
    """Full sensor rows, for the few sensors whose warnings move (already locked by lock_sensors)."""
    return Sensor.objects.in_bulk(sorted(set(ids)))


def indicators_of(ids: Iterable[int]) -> dict[int, Indicator]:
    return {i.pk: i for i in Indicator.objects.filter(pk__in=set(ids)).select_related("category")}


def stored_pairs(candidates: Sequence[tuple[int, datetime]]) -> set[tuple[int, datetime]]:
    """Which (sensor, at) pairs are already stored. Only readings not newer than their sensor's last
    evaluated one can be: every reading after it is new, so the caller asks about those few alone."""
    if not candidates:
        return set()
    # One range over the batch's sensors (an OR per sensor would nest too deep for SQLite's parser).
    ids = sorted({sensor_id for sensor_id, _at in candidates})
    ats = [at for _sensor_id, at in candidates]
    wanted = set(candidates)
    stored = Reading.objects.filter(any_of("sensor_id", ids, "bigint"), at__gte=min(ats), at__lte=max(ats))
    return {pair for pair in stored.values_list("sensor_id", "at") if pair in wanted}


COPY_TYPES = ("int8", "timestamptz", "float8")


def insert_readings(rows: Sequence[tuple[int, datetime, float]]) -> None:
    """Store new readings (the caller has removed every stored pair under the sensors' locks)."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            raw = cursor.cursor  # the psycopg cursor under Django's wrapper: COPY is its own protocol
            # Binary: the server takes the values as they are instead of parsing 10,000 time stamps.
            with raw.copy("COPY vitals_reading (sensor_id, at, value) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(COPY_TYPES)
                for row in rows:
                    copy.write_row(row)
        return
    Reading.objects.bulk_create(
        [Reading(sensor_id=s, at=at, value=v) for s, at, v in rows], batch_size=5000, ignore_conflicts=True
    )


def open_threshold_warnings(sensor_ids: Iterable[int]) -> dict[int, VitalWarning]:
    qs = VitalWarning.objects.filter(
        any_of("sensor_id", sensor_ids, "bigint"), kind=WarningKind.THRESHOLD, state__in=OPEN_WARNING_STATES
    )
    return {w.sensor_id: w for w in qs}


def state_of(last_at: datetime | None, warning: VitalWarning | None) -> rules.State:
    """The evaluator's state of one sensor from its last evaluated reading and its open warning."""
    if warning is None:
        return rules.State(last_at=last_at, open=None)
    return rules.State(
        last_at=last_at,
        open=rules.Open(
            state=warning.state,
            level=warning.level,
            started_at=warning.started_at,
            peak=warning.peak_value if warning.peak_value is not None else warning.last_value or 0.0,
            fired_at=warning.fired_at,
        ),
    )


def save_sensor_state(updates: Sequence[tuple[int, datetime | None, float | None]], seen_at: datetime) -> None:
    """Write each sensor's last evaluated reading and the wall-clock time it was last heard from."""
    if not updates:
        return
    if connection.vendor == "postgresql":
        with bound_cursor() as cursor:
            cursor.execute(
                "UPDATE vitals_sensor s SET last_at = COALESCE(v.last_at, s.last_at), "
                "last_value = COALESCE(v.last_value, s.last_value), last_seen_at = %s "
                "FROM (SELECT unnest(%s::bigint[]) AS id, unnest(%s::timestamptz[]) AS last_at, "
                "unnest(%s::float8[]) AS last_value) v WHERE s.id = v.id",
                [seen_at, [u[0] for u in updates], [u[1] for u in updates], [u[2] for u in updates]],
            )
        return
    sensors = []
    for sensor_id, last_at, last_value in updates:
        sensor = Sensor(pk=sensor_id, last_seen_at=seen_at)
        fields = ["last_seen_at"]
        if last_at is not None:
            sensor.last_at, sensor.last_value = last_at, last_value
            fields += ["last_at", "last_value"]
        sensors.append(sensor)
    with_reading = [s for s in sensors if s.last_at is not None]
    without = [s for s in sensors if s.last_at is None]
    if with_reading:
        Sensor.objects.bulk_update(with_reading, ["last_at", "last_value", "last_seen_at"], batch_size=2000)
    if without:
        Sensor.objects.bulk_update(without, ["last_seen_at"], batch_size=2000)


def save_open_warnings(warnings: Sequence[VitalWarning]) -> None:
    """The running figures of open warnings (level, peak, last value) after a batch."""
    if warnings:
        VitalWarning.objects.bulk_update(list(warnings), ["level", "peak_value", "last_value"], batch_size=2000)


__all__ = [
    "COPY_TYPES",
    "Held",
    "any_of",
    "bound_cursor",
    "indicators_of",
    "insert_readings",
    "lock_sensors",
    "open_threshold_warnings",
    "save_open_warnings",
    "save_sensor_state",
    "sensors_of",
    "state_of",
    "stored_pairs",
]
