"""Report and export reads on a read replica (只读副本), everything else on the primary.

`DATABASE_REPLICA_URL` (citygov.settings.env.replica_from_env) adds the database alias "replica".
A channel that builds a report or an export wraps the work in `report_reads()`; inside it, and
only there, `ReplicaRouter` sends reads to the replica. Writes, the rest of the request (session,
user, permissions checks outside the block) and every other page stay on "default", so an operator
never reads their own fresh write from a replica that has not replayed it yet. Without the alias
the router says nothing and Django uses "default".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connections

REPLICA = "replica"

_report_reads: ContextVar[bool] = ContextVar("citygov_report_reads", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


@contextmanager
def report_reads() -> Iterator[None]:
    """Reads inside this block go to the replica when there is one."""
    token = _report_reads.set(True)
    try:
        yield
    finally:
        _report_reads.reset(token)


def reads_alias() -> str:
    """Where a read would go now: "replica" inside `report_reads()` with a replica, else "default"."""
    return REPLICA if _report_reads.get() and replica_configured() else "default"


class ReplicaRouter:
    """settings.DATABASE_ROUTERS: report reads to the replica; writes and migrations to the primary."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str | None:
        alias = reads_alias()
        return alias if alias == REPLICA else None

    def db_for_write(self, model: type[Any], **hints: Any) -> str | None:
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return True  # one database, two copies of it

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        return db != REPLICA  # the replica replays the primary's migrations


def replication_lag() -> timedelta | None:
    """How far the replica is behind: None without a replica; 0 when the alias points at a primary
    (or at SQLite, which has no replication) or has replayed everything it received.

    PostgreSQL: `now() - pg_last_xact_replay_timestamp()` on the replica, 0 when the received and
    replayed WAL positions are equal (a quiet primary writes nothing, which is no lag).
    """
    if not replica_configured():
        return None
    connection = connections[REPLICA]
    if connection.vendor != "postgresql":
        return timedelta(0)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0"
            " WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
            " ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END"
        )
        (seconds,) = cursor.fetchone()
    return timedelta(seconds=max(float(seconds), 0.0))
