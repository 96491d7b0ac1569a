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
    """`field IN values` as one parameter on PostgreSQL: a batch names thousands of sensors.

    Django binds on the client and quotes an array parameter element by element in Python (about
    4 µs an element, 20 ms for a batch's 5,000 codes); one text of the values joined by commas, split
    by PostgreSQL (`string_to_array`), costs a `str.join`. Text containing a comma goes as an array.
    A plain IN list elsewhere."""
    values = list(values)
    if connection.vendor != "postgresql":
        return Q(**{f"{field}__in": values})
    texts = [str(v) for v in values]
    # The type is one of the callers' literals, the values a bound parameter.
    if sql_type == "text" and any("," in t for t in texts):
        return Q(**{f"{field}__in": RawSQL(f"SELECT unnest(%s::{sql_type}[])", [texts])})  # noqa: S611
    return Q(**{f"{field}__in": RawSQL(f"SELECT unnest(string_to_array(%s, ',')::{sql_type}[])", [",".join(texts)])})  # noqa: S611


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
        # Binary results: psycopg's C loaders, where Django's text loader parses each time stamp in Python.
        cursor.execute(sql, params, binary=True)
        return {row[1]: Held(*row) for row in cursor}


@contextmanager
def bound_cursor() -> Iterator[Any]:
    """A psycopg cursor with server-side parameters on Django's connection (so in its transaction).

    Django's psycopg cursors bind on the client: each array of thousands of codes or ids is quoted
    into the statement text element by element, in Python. Bound on the server, with `%b` (binary)
    placeholders, psycopg sends each array as one binary value (5,000 time stamps: ~5 ms instead of
    ~75 ms as text), and a 5,000-sensor batch spends its time in the database instead.
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
        ids, ats, values = ([u[k] for u in updates] for k in range(3))
        # A binary array takes its element type from a non-null element: an all-null one goes as text.
        at_mark, value_mark = ("%b" if any(v is not None for v in column) else "%s" for column in (ats, values))
        with bound_cursor() as cursor:
            cursor.execute(  # the f-strings add placeholders only
                "UPDATE vitals_sensor s SET last_at = COALESCE(v.last_at, s.last_at), "  # noqa: S608
                "last_value = COALESCE(v.last_value, s.last_value), last_seen_at = %s "
                f"FROM (SELECT unnest(%b::bigint[]) AS id, unnest({at_mark}::timestamptz[]) AS last_at, "
                f"unnest({value_mark}::float8[]) AS last_value) v WHERE s.id = v.id",
                [seen_at, ids, ats, values],
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
