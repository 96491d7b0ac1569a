"""Event codes (事件编号): city code + local date + a sequence drawn from the primary key.

The id is drawn before the row is written (`reserve_event_id`), so the code, and the history
anchor that binds it, go into the event's one INSERT: no UPDATE of an indexed column after it.
Unique and race-free without a counter row every intake would queue on: on PostgreSQL the id
is the table's own sequence (nextval never hands out a number twice, even across rollbacks); on
SQLite the writer holds the database's write lock for its whole transaction (the settings open
it IMMEDIATE), and the primary key refuses a second row with the same id in any case.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connections, router
from django.utils import timezone

from accounts.models import OrgUnit
from incidents.models import Event


def reserve_event_id() -> int:
    """The id the next event row will carry (one statement)."""
    connection = connections[router.db_for_write(Event)]
    table = Event._meta.db_table  # "incidents_event", as the SQLite statement names it
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [table])
        else:
            # The AUTOINCREMENT high-water mark (never reused, unlike MAX(id) after a delete),
            # or the highest id if rows were written with explicit ids past it.
            cursor.execute(
                "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "
                "COALESCE((SELECT MAX(id) FROM incidents_event), 0)) + 1",
                [table],
            )
        return int(cursor.fetchone()[0])


def event_code(grid: OrgUnit, reported_at: datetime, pk: int) -> str:
    return f"{grid.depth_codes[0]}{timezone.localdate(reported_at):%Y%m%d}{pk:07d}"
