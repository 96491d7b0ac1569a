"""Keeping the readings table: daily partitions ahead, retention, hourly downsampling (降采样).

Native declarative partitioning (PostgreSQL ≥ 11), kept by this idempotent maintenance rather than
pg_partman or django-postgres-extra: pg_partman is a server extension that every PostgreSQL host
(CI, a fresh machine, a managed database) would have to install and allow, and django-postgres-extra
needs its own database backend in place of Django's, under settings and middleware that already
name the standard one. The SQL here is a few statements a DBA can read.

Partitions are one UTC day each, `vitals_reading_pYYYYMMDD`; a DEFAULT partition (migration 0001)
catches readings for days no partition covers yet (a replay of an old series); when a day's
partition is created later, its rows move out of the default first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import connection, transaction

TABLE = "vitals_reading"
DEFAULT = f"{TABLE}_default"
HOURLY = "vitals_readinghourly"
_NAME = re.compile(rf"^{TABLE}_p(\d{{8}})$")


@dataclass(frozen=True)
class Maintenance:
    created: list[str]
    dropped: list[str]
    rolled_up_hours: int
    deleted_rows: int


def partitioned() -> bool:
    return connection.vendor == "postgresql"


def _param(moment: datetime) -> str | datetime:
    """A datetime as the backend stores it (SQLite compares text: bind it in the stored form)."""
    adapted = connection.ops.adapt_datetimefield_value(moment)
    return adapted if isinstance(adapted, str | datetime) else moment


def partition_name(day: date) -> str:
    return f"{TABLE}_p{day:%Y%m%d}"


def existing_partitions() -> dict[date, str]:
    """The daily partitions attached to the readings table, by day."""
    if not partitioned():
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
            [TABLE],
        )
        names = [row[0] for row in cursor.fetchall()]
    found: dict[date, str] = {}
    for name in names:
        if match := _NAME.match(name):
            found[datetime.strptime(match.group(1), "%Y%m%d").replace(tzinfo=UTC).date()] = name
    return found


def _bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


def create_partition(day: date) -> str:
    """Create (or leave) the partition of one UTC day, moving that day's rows out of the default first."""
    name = partition_name(day)
    low, high = _bounds(day)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [name])
        if cursor.fetchone()[0] is not None:
            return name
        # Attaching checks the default holds no row of the range; a replayed old day may have put some there.
        cursor.execute(f'CREATE TABLE "{name}" (LIKE "{TABLE}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)')
        move = f'WITH moved AS (DELETE FROM "{DEFAULT}" WHERE at >= %s AND at < %s RETURNING *) '  # noqa: S608
        cursor.execute(f'{move} INSERT INTO "{name}" SELECT * FROM moved', [low, high])  # noqa: S608
        # DDL takes no parameters (the server binds them): the bounds go in as literals, from our own dates.
        bounds = f"FROM ('{low.isoformat()}') TO ('{high.isoformat()}')"
        cursor.execute(f'ALTER TABLE "{TABLE}" ATTACH PARTITION "{name}" FOR VALUES {bounds}')
    return name


def ensure_partitions(today: date, days_ahead: int = 7, days_back: int = 1) -> list[str]:
    """Partitions from `days_back` before `today` to `days_ahead` after it; returns the ones it created."""
    if not partitioned():
        return []
    have = existing_partitions()
    created = []
    for offset in range(-days_back, days_ahead + 1):
        day = today + timedelta(days=offset)
        if day not in have:
            created.append(create_partition(day))
    return created


def drop_expired(now: datetime, retention_days: int) -> tuple[list[str], int]:
    """Drop the partitions (delete the rows, on SQLite) older than the retention; the roll-up stays."""
    cutoff = now - timedelta(days=retention_days)
    if not partitioned():
        with connection.cursor() as cursor:
            cursor.execute(f'DELETE FROM "{TABLE}" WHERE at < %s', [_param(cutoff)])  # noqa: S608 - fixed table name
            return [], cursor.rowcount
    dropped = []
    for day, name in sorted(existing_partitions().items()):
        if _bounds(day)[1] <= cutoff:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP TABLE "{name}"')
            dropped.append(name)
    with connection.cursor() as cursor:
        cursor.execute(f'DELETE FROM "{DEFAULT}" WHERE at < %s', [cutoff])  # noqa: S608 - fixed table name
        return dropped, cursor.rowcount


def roll_up(since: datetime, until: datetime) -> int:
    """(Re)compute the hourly roll-up of every hour in [since, until): idempotent. Returns the rows written."""
    if partitioned():
        hour = "date_trunc('hour', at)"
        conflict = (
            "ON CONFLICT (sensor_id, hour) DO UPDATE SET count = EXCLUDED.count, minimum = EXCLUDED.minimum, "
            "maximum = EXCLUDED.maximum, mean = EXCLUDED.mean"
        )
    else:
        hour = "strftime('%%Y-%%m-%%d %%H:00:00', at)"
        conflict = (
            "ON CONFLICT (sensor_id, hour) DO UPDATE SET count = excluded.count, minimum = excluded.minimum, "
            "maximum = excluded.maximum, mean = excluded.mean"
        )
    with connection.cursor() as cursor:
        # "WHERE true": SQLite's parser needs it before an upsert clause on INSERT … SELECT.
        select = f"SELECT sensor_id, {hour}, count(*), min(value), max(value), avg(value) FROM {TABLE}"  # noqa: S608
        cursor.execute(
            f'INSERT INTO "{HOURLY}" (sensor_id, hour, count, minimum, maximum, mean) '
            f"{select} WHERE at >= %s AND at < %s AND true GROUP BY sensor_id, {hour} {conflict}",
            [_param(since), _param(until)],
        )
        return cursor.rowcount


def maintain(now: datetime, retention_days: int, rollup_hours: int = 48) -> Maintenance:
    """The beat's hourly job: partitions ahead, the last `rollup_hours` complete hours rolled up, retention."""
    created = ensure_partitions(now.astimezone(UTC).date())
    this_hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    rolled = roll_up(this_hour - timedelta(hours=rollup_hours), this_hour)
    dropped, deleted = drop_expired(now, retention_days)
    return Maintenance(created=created, dropped=dropped, rolled_up_hours=rolled, deleted_rows=deleted)
