"""Daily roll-ups of the evaluation figures: built by an idempotent job, read by the report.

How they stay exact (the report from roll-ups equals the live computation, tests/dispatch/test_rollups.py):
- The population is by report day, and an event's figures change whenever one of its later facts
  happens. So every write to an event, its history or its clocks marks its report day (a
  `RollupMark`, inserted in the same transaction by the post_save receivers below; an insert, no
  row lock, so concurrent transitions never wait on each other). A marked or never-built day is
  read live; a clean day is read from its rows.
- `rebuild_days` recomputes a day from scratch and replaces its rows (idempotent). On PostgreSQL it
  reads in one REPEATABLE READ snapshot and deletes only the marks that snapshot saw: a change
  committed meanwhile keeps its mark, so its day stays live until the next run. The beat task
  `dispatch.rollup_refresh` rebuilds marked days every minute; `manage.py rollup_rebuild` any range,
  in several processes if asked. Builders lock per day, not globally: two builders of one day take
  turns, builders of different days run side by side, and a month is summed only while none of
  its days is being built (each day builder holds the month's lock shared, the summer exclusive), so
  a month's sum is never older than a day it was read as including.
- The one figure that moves with time alone is 超期 (an open event passes its overall deadline with
  nobody writing anything). A day is rolled up as of `built_at`; deadlines that came due after it
  (running, unbreached, `came_due`) are few (the sweep breaches them within a minute, which marks the
  day) and the report corrects for them live, from a partial index on exactly those clocks.
Lights change only through the sweep's clock writes, which mark the day too.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection, connections, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.inserts import insert_new
from dispatch.evaluation import Fact
from dispatch.figures import (
    BUCKETS,
    DispatcherRow,
    Figures,
    GridWorkerRow,
    Row,
    clock_stops,
    compute,
    event_rows,
    history_facts,
    overdue_events,
    period_bounds,
)
from dispatch.models import (
    DailyRollup,
    MonthlyRollup,
    RollupDay,
    RollupKind,
    RollupMark,
    RollupMonth,
    SlaClock,
    SlaStep,
)
from incidents.models import OPEN_STATES, Event

logger = logging.getLogger(__name__)

ROW_COLUMNS = (
    "received", "dispatched", "cases", "closed", "closed_on_time", "overdue_open", "reworked", "reworked_due",
    "overdue_now", "returns", "extensions", "suspensions", "urges", "accepts", "co_handled", "open_green",
    "open_yellow", "open_red", "handling_count", "handling_seconds",
)  # fmt: skip
HISTOGRAM_COLUMNS = tuple(f"h{i:02d}" for i in range(BUCKETS))
DISPATCHER_COLUMNS = ("dispatches", "timed_dispatches", "on_time_dispatches", "wrong_dispatches")
WORKER_COLUMNS = ("reports", "valid_reports", "verifications", "timed_verifications", "on_time_verifications")
COLUMNS = ROW_COLUMNS + HISTOGRAM_COLUMNS + DISPATCHER_COLUMNS + WORKER_COLUMNS
# What a month sums and a read adds up: the figures, then on how many days the key was present.
SUMMED = (*COLUMNS, "days_present")
# PostgreSQL advisory lock classes, each (class, date ordinal): one day, one month.
DAY_LOCK, MONTH_LOCK = 0x15A0_0001, 0x15A0_0002


# --- marking (the transitions' side) -------------------------------------------------------------


def report_day(reported_at: datetime) -> date:
    return timezone.localdate(reported_at)


def mark(reported_at: datetime | None) -> None:
    """Mark the report day of a change, once per day per transaction.

    Inside a transaction the first mark of a day registers an on_commit token; later saves of
    the same transaction skip the INSERT while that token is still pending. Django drops the
    tokens of a rolled-back savepoint or transaction, so a mark that was rolled back is written
    again by the next change (a skipped mark would leave a stale roll-up read as clean)."""
    if reported_at is None:
        return
    day = report_day(reported_at)
    conn = transaction.get_connection()
    pending: dict[date, object] = conn.__dict__.setdefault("_rollup_marks", {})
    token = pending.get(day)
    if conn.in_atomic_block and token is not None and any(entry[1] is token for entry in conn.run_on_commit):
        return
    insert_new([RollupMark(day=day)])  # one row, no receivers: the hot path of every intake (#20)
    if conn.in_atomic_block:

        def done() -> None:
            pending.pop(day, None)

        pending[day] = done
        transaction.on_commit(done)


def _forget_marks(day: date) -> None:
    """The rebuild deleted the day's marks: a later change in the same transaction marks it again."""
    transaction.get_connection().__dict__.get("_rollup_marks", {}).pop(day, None)


def mark_event(sender: type, instance: Event, **kwargs: Any) -> None:
    mark(instance.reported_at)


def mark_related(sender: type, instance: Any, **kwargs: Any) -> None:
    """A history record or a clock of an event changed: mark the event's report day."""
    cached = instance._state.fields_cache.get("event")
    if cached is not None:
        mark(cached.reported_at)
    else:
        mark(Event.objects.filter(pk=instance.event_id).values_list("reported_at", flat=True).first())


def connect() -> None:
    from django.db.models.signals import post_delete, post_save

    from incidents.models import EventRecord

    post_save.connect(mark_event, sender=Event, dispatch_uid="rollup-mark-event")
    post_delete.connect(mark_event, sender=Event, dispatch_uid="rollup-mark-event-del")
    for model in (EventRecord, SlaClock):
        post_save.connect(mark_related, sender=model, dispatch_uid=f"rollup-mark-{model.__name__}")
        post_delete.connect(mark_related, sender=model, dispatch_uid=f"rollup-mark-{model.__name__}-del")


# --- building (the job's side) -------------------------------------------------------------------


def _rows_of(day: date, path: str, fig: Figures) -> Iterator[DailyRollup]:
    def row_values(row: Row) -> dict[str, int]:
        values = {name: getattr(row, name) for name in ROW_COLUMNS}
        values.update(zip(HISTOGRAM_COLUMNS, row.handling_histogram, strict=True))
        return values

    for row in fig.areas.values():
        yield DailyRollup(day=day, area_path=path, kind=RollupKind.AREA, key="", **row_values(row))
    for code, row in fig.departments.items():
        yield DailyRollup(day=day, area_path=path, kind=RollupKind.DEPARTMENT, key=code, **row_values(row))
    for code, d in fig.dispatchers.items():
        values = {name: getattr(d, name) for name in DISPATCHER_COLUMNS}
        yield DailyRollup(day=day, area_path=path, kind=RollupKind.DISPATCHER, key=code, **values)
    for pk, w in fig.workers.items():
        values = {name: getattr(w, name) for name in WORKER_COLUMNS}
        yield DailyRollup(day=day, area_path=path, kind=RollupKind.WORKER, key=str(pk), **values)


def _build(day: date, built_at: datetime) -> int:
    since, until = period_bounds(day, day)
    base = Event.objects.filter(reported_at__gte=since, reported_at__lt=until)
    events = event_rows(base)
    facts_of: dict[int, list[Fact]] = defaultdict(list)
    for fact in history_facts(base):
        facts_of[fact.event_id].append(fact)
    clocks, overdue = clock_stops(base), overdue_events(base, built_at)
    by_path: dict[str, list[int]] = defaultdict(list)
    for eid, ev in events.items():
        by_path[ev["area_path"]].append(eid)
    rows: list[DailyRollup] = []
    for path, ids in by_path.items():
        ids.sort()
        group = {eid: events[eid] for eid in ids}
        fig = compute(group, [f for eid in ids for f in facts_of[eid]], clocks, overdue & set(ids))
        rows.extend(_rows_of(day, path, fig))
    DailyRollup.objects.filter(day=day).delete()
    DailyRollup.objects.bulk_create(rows, batch_size=2000)
    RollupDay.objects.update_or_create(day=day, defaults={"built_at": built_at})
    return len(events)


@contextmanager
def _advisory(locks: list[tuple[str, int, date]]) -> Iterator[None]:
    """Session-level advisory locks (kind "" exclusive or "_shared", class, date), taken in order
    before the caller's snapshot begins (a REPEATABLE READ snapshot taken while waiting would not
    see what the holder committed) and released after its commit."""
    if connection.vendor != "postgresql":
        yield  # SQLite has one writer at a time anyway
        return
    with connection.cursor() as cursor:
        for kind, cls, when in locks:
            cursor.execute(f"SELECT pg_advisory_lock{kind}(%s, %s)", [cls, when.toordinal()])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for kind, cls, when in reversed(locks):
                cursor.execute(f"SELECT pg_advisory_unlock{kind}(%s, %s)", [cls, when.toordinal()])


def _building(day: date) -> AbstractContextManager[None]:
    return _advisory([("_shared", MONTH_LOCK, day.replace(day=1)), ("", DAY_LOCK, day)])


def _summing(month: date) -> AbstractContextManager[None]:
    return _advisory([("", MONTH_LOCK, month)])


@contextmanager
def snapshot() -> Iterator[None]:
    """One transaction; on PostgreSQL, when it is the outermost, one REPEATABLE READ snapshot, so
    the marks, the roll-up rows and the live rows read in it agree with each other."""
    outer = not connection.in_atomic_block
    with transaction.atomic():
        if outer and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def _sum_month(month: date) -> None:
    """Replace the month's rows by the sums of its daily rows (one INSERT ... SELECT)."""
    following = _following(month)
    columns = ", ".join(SUMMED)
    sums = ", ".join(f"SUM({c})" for c in SUMMED)
    with _summing(month), snapshot():
        MonthlyRollup.objects.filter(month=month).delete()
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {MonthlyRollup._meta.db_table} (month, area_path, kind, key, {columns}) "  # noqa: S608 - fixed names
                f"SELECT %s, area_path, kind, key, {sums} FROM {DailyRollup._meta.db_table} "
                "WHERE day >= %s AND day < %s GROUP BY area_path, kind, key",
                [month, month, following],
            )
        RollupMonth.objects.update_or_create(month=month, defaults={"built_at": timezone.now()})


def rebuild_days(days: Iterable[date], *, workers: int = 1) -> int:
    """Recompute each day's roll-up, replacing it, then re-sum their months; returns how many
    events were rolled up. With `workers` > 1 (PostgreSQL), the days are built by that many
    processes side by side, each its own connection."""
    wanted = sorted(set(days))
    if workers > 1 and len(wanted) > 1:
        total = _rebuild_in_processes(wanted, workers)
    else:
        total = sum(_rebuild_day(day) for day in wanted)
    for month in sorted({day.replace(day=1) for day in wanted}):
        _sum_month(month)
    return total


def _rebuild_day(day: date) -> int:
    with _building(day), snapshot():
        seen = list(RollupMark.objects.filter(day=day).values_list("id", flat=True))
        events = _build(day, timezone.now())
        RollupMark.objects.filter(id__in=seen).delete()
        _forget_marks(day)
    return events


def _rebuild_in_processes(days: list[date], workers: int) -> int:
    """Fork `workers` processes, each building every n-th day (so busy and quiet days mix). Forked,
    not spawned: a child has this process's settings as they are (a test's database included)."""
    if connection.vendor != "postgresql":
        raise ValueError("Building roll-ups in several processes needs PostgreSQL.")
    if connection.in_atomic_block:
        raise ValueError("Building roll-ups in several processes cannot run inside a transaction.")
    connections.close_all()  # a forked child must not share the parent's sockets
    parts = [days[k::workers] for k in range(min(workers, len(days)))]  # no idle processes
    with ProcessPoolExecutor(len(parts), mp_context=multiprocessing.get_context("fork")) as pool:
        return sum(pool.map(_rebuild_part, parts))


def _rebuild_part(days: list[date]) -> int:
    try:
        return sum(_rebuild_day(day) for day in days)
    finally:
        connections.close_all()


def rebuild_range(start: date, end: date, *, workers: int = 1) -> int:
    return rebuild_days((start + timedelta(days=n) for n in range((end - start).days + 1)), workers=workers)


def refresh(limit: int = 31) -> int:
    """The beat task: rebuild the marked days (oldest first, at most `limit` per run)."""
    days = list(RollupMark.objects.order_by("day").values_list("day", flat=True).distinct()[:limit])
    return rebuild_days(days)


# --- reading (the report's side) -----------------------------------------------------------------


def day_status(start: date, end: date) -> tuple[dict[date, datetime], list[date]]:
    """(clean day → built_at, days to read live: marked or never built) for [start, end]."""
    built = dict(RollupDay.objects.filter(day__gte=start, day__lte=end).values_list("day", "built_at"))
    marked = set(RollupMark.objects.filter(day__gte=start, day__lte=end).values_list("day", flat=True))
    clean = {day: at for day, at in built.items() if day not in marked}
    every = (start + timedelta(days=n) for n in range((end - start).days + 1))
    return clean, [day for day in every if day not in clean]


def days_q(days: list[date]) -> Q:
    """Events reported on `days`, as few range tests as the runs of consecutive days."""
    q = Q(pk__in=[])
    runs: list[list[date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    for first, last in runs:
        since, until = period_bounds(first, last)
        q |= Q(reported_at__gte=since, reported_at__lt=until)
    return q


def _following(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def _days_of(month: date) -> list[date]:
    return [month + timedelta(days=n) for n in range((_following(month) - month).days)]


def _month_plan(start: date, end: date) -> tuple[list[date], list[date]]:
    """(months to read from their sums, days of those months outside [start, end] to take away).

    A month touching the period is read from its sums when every day of it is clean and it was
    summed after them, and when it has fewer days outside the period than inside: a year from
    2 December reads December's sum less 1 December, not 30 daily rows. Sums are integers, so
    month − days is exact."""
    first = start.replace(day=1)
    summed_at = dict(RollupMonth.objects.filter(month__gte=first, month__lte=end).values_list("month", "built_at"))
    if not summed_at:
        return [], []
    # The days of those months outside the period count too: their rows are what is taken away.
    clean, _live = day_status(first, _following(end.replace(day=1)) - timedelta(days=1))
    months, outside = [], []
    for month, at in sorted(summed_at.items()):
        days = _days_of(month)
        away = [day for day in days if not start <= day <= end]
        if len(away) * 2 >= len(days) or not all(day in clean and clean[day] <= at for day in days):
            continue
        months.append(month)
        outside.extend(away)
    return months, outside


def _sum_sql(table: str, when: str, count: int, kinds: int, *, by_month: bool) -> str:
    """One GROUP BY over a roll-up table: its clean days (or months), under a path, of some kinds.

    Written once as SQL rather than through the ORM: building ~45 Sum() expressions cost more Python
    time per report than PostgreSQL takes to sum the rows."""
    if not by_month:
        month = "0"
    elif connection.vendor == "postgresql":
        month = f"CAST(EXTRACT(MONTH FROM {when}) AS integer)"
    else:
        month = f"CAST(strftime('%%m', {when}) AS integer)"
    sums = ", ".join(f"SUM({c})" for c in SUMMED)
    marks = ", ".join(["%s"] * count)
    kind_marks = ", ".join(["%s"] * kinds)
    return (
        f"SELECT kind, key, CASE WHEN kind = %s THEN SUBSTR(area_path, 1, %s) ELSE '' END, {month}, {sums} "  # noqa: S608 - fixed names
        f"FROM {table} WHERE {when} IN ({marks}) AND SUBSTR(area_path, 1, %s) = %s AND kind IN ({kind_marks}) "
        "GROUP BY 1, 2, 3, 4"
    )


def summed(
    path: str, start: date, end: date, clean: dict[date, datetime], *, prefix: int, kinds: Iterable[str],
    by_month: bool = False,
) -> dict[int, Figures]:  # fmt: skip
    """The roll-up rows of the clean days in [start, end] under `path`, summed per kind and key
    (areas per `prefix` characters of their path), per month when asked (key 0 otherwise). Clean
    months are read from their monthly sums (less their days outside the period, see _month_plan),
    the other clean days from their daily rows; a key is kept when some day inside had it."""
    kinds = list(kinds)
    months, outside = _month_plan(start, end)
    in_months = {day for day in clean if day.replace(day=1) in months}
    days = sorted(day for day in clean if start <= day <= end and day not in in_months)
    out: dict[int, Figures] = defaultdict(Figures)
    present: dict[tuple[int, str, str], int] = defaultdict(int)
    n_row, n_dispatcher = len(ROW_COLUMNS) + len(HISTOGRAM_COLUMNS), len(DISPATCHER_COLUMNS)
    reads = [
        (MonthlyRollup._meta.db_table, "month", months, 1),
        (DailyRollup._meta.db_table, "day", days, 1),
        (DailyRollup._meta.db_table, "day", outside, -1),
    ]
    with connection.cursor() as cursor:
        for table, when, periods, sign in reads:
            if not periods:
                continue
            sql = _sum_sql(table, when, len(periods), len(kinds), by_month=by_month)
            cursor.execute(sql, [RollupKind.AREA, prefix, *periods, len(path), path, *kinds])
            for kind, key, area, in_month, *sums in cursor.fetchall():
                values = [int(v) for v in sums]  # PostgreSQL sums a bigint column as numeric
                fig = out[int(in_month)]
                present[(int(in_month), kind, area if kind == RollupKind.AREA else key)] += sign * values[-1]
                if kind in (RollupKind.AREA, RollupKind.DEPARTMENT):
                    row = fig.area(area) if kind == RollupKind.AREA else fig.department(key)
                    row.merge(_row_from(values[:n_row]), sign)
                elif kind == RollupKind.DISPATCHER:
                    fig.dispatcher(key).merge(DispatcherRow("", "", *values[n_row : n_row + n_dispatcher]), sign)
                else:
                    fig.worker(int(key)).merge(GridWorkerRow("", "", *values[n_row + n_dispatcher : -1]), sign)
    for (in_month, kind, key), days_present in present.items():
        if not days_present:  # only on the days taken away
            _drop(out[in_month], kind, key)
    return out


def _drop(fig: Figures, kind: str, key: str) -> None:
    if kind == RollupKind.AREA:
        del fig.areas[key]
    elif kind == RollupKind.DEPARTMENT:
        del fig.departments[key]
    elif kind == RollupKind.DISPATCHER:
        del fig.dispatchers[key]
    else:
        del fig.workers[int(key)]


def _row_from(values: list[Any]) -> Row:
    """A Row from the sums of ROW_COLUMNS then HISTOGRAM_COLUMNS, in that order."""
    row = Row("", "", **dict(zip(ROW_COLUMNS, values, strict=False)))
    row.handling_histogram = list(values[len(ROW_COLUMNS) :])
    return row


def came_due(base: QuerySet[Event], clean: dict[date, datetime], now: datetime) -> set[int]:
    """Open events of clean days whose latest overall deadline passed after their day was built:
    rolled up as not overdue, overdue now. Read from the partial index slaclock_overall_running_due."""
    if not clean:
        return set()
    # The clocks first, from the partial index alone (normally none or a handful), then their events
    # in scope: joined the other way round the planner would walk the period's events.
    candidates = list(
        SlaClock.objects.filter(
            step=SlaStep.OVERALL,
            stopped_at__isnull=True,
            paused_at__isnull=True,
            breached_at__isnull=True,
            due_at__gte=min(clean.values()),
            due_at__lt=now,
        ).values_list("id", "event_id", "due_at")
    )
    if not candidates:
        return set()
    reported = dict(
        base.filter(pk__in={eid for _cid, eid, _due in candidates}, state__in=OPEN_STATES).values_list(
            "pk", "reported_at"
        )
    )
    found = {
        eid: cid
        for cid, eid, due in candidates
        if eid in reported and report_day(reported[eid]) in clean and due >= clean[report_day(reported[eid])]
    }
    if not found:
        return set()
    latest: dict[int, int] = {}
    for eid, cid in SlaClock.objects.filter(event_id__in=list(found), step=SlaStep.OVERALL).values_list(
        "event_id", "id"
    ):
        latest[eid] = max(latest.get(eid, 0), cid)
    return {eid for eid, cid in found.items() if latest[eid] == cid}


def came_due_delta(base: QuerySet[Event], events: set[int], now: datetime) -> Figures:
    """What turning `events` overdue changes in their figures (computed both ways, subtracted)."""
    delta = Figures()
    if not events:
        return delta
    scoped = base.filter(pk__in=list(events))
    rows, facts, clocks = event_rows(scoped), history_facts(scoped), clock_stops(scoped)
    delta.merge(compute(rows, facts, clocks, set(events)))
    delta.merge(compute(rows, facts, clocks, set()), sign=-1)
    return delta
