"""Roll-up builders side by side (dispatch.rollups): per-day and per-month advisory locks, and
`rollup_rebuild --workers N` giving exactly the rows one builder gives."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from freezegun import freeze_time

from dispatch import rollups
from dispatch.models import DailyRollup, MonthlyRollup, RollupDay
from tests.factories import file_event

SH = ZoneInfo("Asia/Shanghai")
NANHU, LIUAN = "99010200100101", "99010200200101"
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="builders side by side need PostgreSQL's advisory locks"
)


BUILDERS: dict[str, Path] = {}  # where the builder processes note their pids (set by the test)


def _noting_part(days):
    """dispatch.rollups._rebuild_part, noting which process ran it (a forked child sees this module)."""
    with BUILDERS["file"].open("a") as out:
        out.write(f"{os.getpid()}\n")
    return ORIGINAL_PART(days)


ORIGINAL_PART = rollups._rebuild_part


def _rows() -> tuple[list[tuple], list[tuple]]:
    daily = DailyRollup.objects.order_by("day", "area_path", "kind", "key").values_list(
        "day", "area_path", "kind", "key", *rollups.SUMMED
    )
    monthly = MonthlyRollup.objects.order_by("month", "area_path", "kind", "key").values_list(
        "month", "area_path", "kind", "key", *rollups.SUMMED
    )
    return list(daily), list(monthly)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_processes_build_the_same_rows_as_one(monkeypatch, tmp_path):
    # Events on several days of two months, in two streets (a builder per process, every 2nd day each).
    start = datetime(2026, 10, 27, 9, 0, tzinfo=SH)
    for n in range(9):
        grid, reporter = (NANHU, "gw_nanhu1") if n % 2 else (LIUAN, "op_jiangnan")
        with freeze_time(start + timedelta(days=n)):
            file_event(reporter=reporter, grid=grid)
    first, last = date(2026, 10, 1), date(2026, 11, 30)
    one = rollups.rebuild_range(first, last)
    alone = _rows()
    assert one >= 9 and alone[0] and len(alone[1]) >= 2
    BUILDERS["file"] = tmp_path / "builders"
    monkeypatch.setattr(rollups, "_rebuild_part", _noting_part)
    two = rollups.rebuild_range(first, last, workers=2)
    assert two == one
    # Built by two other processes, not here.
    pids = set(BUILDERS["file"].read_text().split())
    assert len(pids) == 2 and str(os.getpid()) not in pids
    assert _rows() == alone
    assert RollupDay.objects.filter(day__gte=first, day__lte=last).count() == (last - first).days + 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_month_is_not_summed_while_one_of_its_days_is_being_built():
    day, month = date(2026, 11, 2), date(2026, 11, 1)

    def try_locks() -> tuple[bool, bool, bool, bool]:
        try:  # another thread: another connection, another session
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_try_advisory_lock(%s, %s), pg_try_advisory_lock(%s, %s), "
                    "pg_try_advisory_lock(%s, %s), pg_try_advisory_lock_shared(%s, %s)",
                    [
                        rollups.MONTH_LOCK, month.toordinal(),  # summing November: waits
                        rollups.DAY_LOCK, day.toordinal(),  # building 2 November too: waits
                        rollups.DAY_LOCK, (day + timedelta(days=1)).toordinal(),  # 3 November: free
                        rollups.MONTH_LOCK, month.toordinal(),  # (as 3 November's builder holds it)
                    ],
                )  # fmt: skip
                return cursor.fetchone()
        finally:
            connection.close()

    with rollups._building(day), ThreadPoolExecutor(1) as pool:
        assert pool.submit(try_locks).result() == (False, False, True, True)
    with ThreadPoolExecutor(1) as pool:  # released when the build is done
        assert pool.submit(try_locks).result() == (True, True, True, True)


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the refusal is SQLite's")
def test_several_workers_need_postgresql(db):
    with pytest.raises(CommandError, match="--workers needs PostgreSQL"):
        call_command("rollup_rebuild", "--from", "2026-11-01", "--to", "2026-11-02", "--workers", "2")
    with pytest.raises(CommandError, match="--workers 0: must be at least 1"):
        call_command("rollup_rebuild", "--workers", "0")
