"""A realistic event history for benchmarks and for learning: valid anchored hash chains, running clocks.

PostgreSQL loads with COPY; other databases (the test suite's SQLite) get the same rows through plain
INSERTs, for small sizes. Texts come from incidents.generator_texts (realistic, varied, per 小类); the
department that finally handles an event is the one the routing rules give for its category and place,
and a realistic share of first dispatches went to the wrong department and were returned (退回) or
redispatched (改派) before the right one accepted. Not used by the product; `manage.py generate_history`,
bench/ and the smart-dispatch tests call it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate
from types import SimpleNamespace

from django.db import connection, transaction
from django.utils import timezone

from accounts.geometry import PointPicker
from accounts.models import Department, OrgUnit, Tier
from incidents.generator_texts import event_text
from incidents.history import GENESIS, compute_anchor, data_json, system_record_hash
from incidents.models import Category

# Who finally handles an event of this category at this grid, from this source, at this time, with this
# text: the routing rules' answer (dispatch.routing.history_router; passed in, as events sit below policies).
Router = Callable[[Category, OrgUnit, str, datetime, str], "Department | None"]
# Share of dispatched events whose first dispatch was wrong and got corrected (returned or redispatched).
WRONG_FIRST_SHARE = 0.11
RETURN_REASONS = ["不属于我单位职责范围", "非本部门管辖，请改派", "职责不符，退回重新派遣", "经核实不归我们管"]
# A city's category mix: a few categories make most of the volume.
HEAVY = {"E0101": 18, "E0103": 8, "E0504": 7, "E0503": 6, "E0201": 6, "E0301": 5, "C0104": 4, "C0501": 4, "E0402": 3}
OPEN_STATES = [("reported", 20), ("dispatched", 20), ("accepted", 40), ("handled", 10), ("verified", 10)]
OPEN_STATE_NAMES = [state for state, _weight in OPEN_STATES]
OPEN_STATE_WEIGHTS = list(accumulate(weight for _state, weight in OPEN_STATES))
LOOP = ["reported", "dispatched", "accepted", "handled", "verified", "closed"]
ACTION_INTO = {
    "reported": "file", "dispatched": "dispatch", "accepted": "accept", "handled": "submit_result",
    "verified": "verify_pass", "closed": "close", "invalidated": "invalidate",
}  # fmt: skip
CLOCK_STEP = {
    "reported": "dispatch",
    "dispatched": "accept",
    "accepted": "handle",
    "handled": "verify",
    "verified": "close",
}


@dataclass
class GenerationResult:
    events: int
    records: int
    clocks: int
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


LOADED_TABLES = ("incidents_event", "incidents_eventrecord", "dispatch_slaclock")
EVENT_COLUMNS = (
    "id", "code", "title", "description", "category_id", "urgency", "source", "latitude", "longitude", "address",
    "grid_id", "area_path", "reporter_name", "reporter_phone", "state", "version", "owner_unit_id",
    "lead_department_id", "merged_into_id", "self_handled", "rework_count", "return_count", "reopen_count",
    "urge_count", "result_note", "due_at", "light", "reported_at", "dispatched_at", "accepted_at", "handled_at",
    "verified_at", "closed_at", "updated_at", "first_dispatched_at", "handling_minutes", "closed_on_time",
    "extension_count", "suspension_count", "history_anchor",
)  # fmt: skip
CHUNK = 50_000  # events per COPY round: bounds memory (~6 records each)
REBUILD_INDEXES_FROM = 100_000


def _drop_secondary_indexes(cursor, tables: tuple[str, ...]) -> list[str]:
    """Drop the plain (non-unique) indexes that back no constraint; return the statements that
    recreate them. Unique ones stay, so the load is checked against them as it goes."""
    cursor.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i "
        "JOIN pg_class c ON c.relname = i.indexname AND c.relnamespace = current_schema()::regnamespace "
        "JOIN pg_index x ON x.indexrelid = c.oid "
        "WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s) AND NOT x.indisunique "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conname = i.indexname)",
        [list(tables)],
    )
    found = cursor.fetchall()
    for name, _definition in found:
        cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _name, definition in found]


def _next_id(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")  # noqa: S608 - fixed table names
        return cursor.fetchone()[0]


def _bump_sequence(table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"  # noqa: S608
        )


SMALL_WITHOUT_COPY = 20_000  # other databases than PostgreSQL: plain INSERTs, for test-sized histories


def _near_departments(path: str, right: int, depts: dict[tuple[str, str], int]) -> list[int]:
    """The plausible wrong first dispatches: the other departments serving the same street or district."""
    codes = path.strip("/").split("/")
    return [pk for (unit, _type), pk in depts.items() if unit in (codes[1], codes[2]) and pk != right]


def _wrong_department(rng: random.Random, near: list[int]) -> int | None:
    return rng.choice(near) if near else None


Step = tuple[str, str, str, dict, str]  # action, to_state, reason, data, actor role


def _dispatch_steps(rng: random.Random, lead: int | None, wrong: int | None, codes: dict[int, str]) -> list[Step]:
    """From reported to the right department's dispatch: by a rule (the system) or an operator.

    A wrong first dispatch (always a person's) is corrected either by the department returning it
    (退回, back to reported, then dispatched again) or by an operator redispatching it (改派)."""
    if wrong is None or lead is None:
        who = "system" if rng.random() < 0.5 else "operator"
        return [("dispatch", "dispatched", "", {"department": codes.get(lead or 0), "co_departments": []}, who)]
    first = ("dispatch", "dispatched", "", {"department": codes[wrong], "co_departments": []}, "operator")
    if rng.random() < 0.7:
        back = {"department": codes[wrong], "withdrawn_requests": []}
        return [
            first,
            ("return", "reported", rng.choice(RETURN_REASONS), back, "handler"),
            ("dispatch", "dispatched", "", {"department": codes[lead], "co_departments": []}, "operator"),
        ]
    data = {"department": codes[lead], "previous": codes[wrong], "co_departments": [], "withdrawn_requests": []}
    return [first, ("redispatch", "dispatched", "派错部门，改派", data, "operator")]


def _write(cursor, table: str, columns: str, rows: list[tuple]) -> None:
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    adapt = connection.ops.adapt_datetimefield_value
    placeholders = ", ".join(["%s"] * len(columns.split(",")))
    cursor.executemany(
        f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # noqa: S608 - fixed table and column names
        [tuple(adapt(v) if isinstance(v, datetime) else v for v in row) for row in rows],
    )


# At most: file, dispatch, return, dispatch again, accept, result, verify, close.
MAX_RECORDS_PER_EVENT = 8


@dataclass(frozen=True)
class Part:
    """One process's share of a parallel load: its first ids (disjoint ranges) and the common now."""

    first_ids: tuple[int, int, int]  # event, record, clock
    now: datetime


def next_ids() -> tuple[int, int, int]:
    return _next_id("incidents_event"), _next_id("incidents_eventrecord"), _next_id("dispatch_slaclock")


def split(events: int, workers: int, due_now: int, seed: int, now: datetime) -> list[tuple[int, int, int, Part]]:
    """(events, due now, seed, part) for each of `workers` processes loading `events` together: id
    ranges wide enough for the most records an event can have; each part its own random stream."""
    event_id, record_id, clock_id = next_ids()
    out = []
    for k in range(workers):
        count = events // workers + (k < events % workers)
        due = due_now // workers + (k < due_now % workers)
        out.append((count, due, seed * 1000 + k, Part((event_id, record_id, clock_id), now)))
        event_id, record_id, clock_id = event_id + count, record_id + count * MAX_RECORDS_PER_EVENT, clock_id + count
    return out


def begin_bulk_load() -> list[str]:
    """Before parallel parts: drop the secondary indexes (committed); returns what recreates them."""
    with transaction.atomic(), connection.cursor() as cursor:
        return _drop_secondary_indexes(cursor, LOADED_TABLES)


def end_bulk_load(rebuild: list[str]) -> None:
    """After the parts (or after one of them failed): the indexes back, sequences past the ids, statistics."""
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in rebuild:
            cursor.execute(statement)
    for table in LOADED_TABLES:
        _bump_sequence(table)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_event; ANALYZE incidents_eventrecord; ANALYZE dispatch_slaclock")


def generate(
    events: int,
    days: int = 365,
    open_share: float = 0.1,
    due_now: int = 0,
    seed: int = 1,
    *,
    router: Router | None = None,
    wrong_share: float = WRONG_FIRST_SHARE,
    part: Part | None = None,
) -> GenerationResult:
    """Generate `events` events over the last `days`; `router` names the department that handles each
    (the routing rules'; without one no event gets past reported). With `part` this is one of several
    processes loading together (split, begin_bulk_load, end_bulk_load): it writes its own id ranges and
    leaves the indexes, sequences and statistics to the caller."""
    postgres = connection.vendor == "postgresql"
    if not postgres and events > SMALL_WITHOUT_COPY:
        raise RuntimeError(
            f"Past {SMALL_WITHOUT_COPY} events the generator uses PostgreSQL COPY; set DATABASE_URL to a "
            "PostgreSQL database."
        )
    rng = random.Random(seed)  # noqa: S311 - benchmark data, not secrets
    started = time.perf_counter()
    now = part.now if part else timezone.now()
    grid_units = {g.pk: g for g in OrgUnit.objects.filter(tier=Tier.GRID)}
    grids = [(g.pk, g.path, g.code) for g in grid_units.values()]
    places = {pk: PointPicker(b) for pk, b in OrgUnit.objects.filter(tier=Tier.GRID).values_list("id", "boundary")}
    place_rng = random.Random(seed + 1)  # noqa: S311 - its own stream: the rest of the data stays as it was
    units = {u.code: u.pk for u in OrgUnit.objects.filter(tier__in=[Tier.STREET, Tier.DISTRICT])}
    depts = {(d.org_unit.code, d.type.code): d.pk for d in Department.objects.select_related("org_unit", "type")}
    dept_codes = dict(Department.objects.values_list("pk", "code"))
    nearby: dict[tuple[str, int], list[int]] = {}  # (grid path, right department) → the wrong ones near
    cats = list(Category.objects.filter(parent__isnull=False).select_related("parent"))
    # Cumulative weights once: random.choices accumulates plain weights on every call (the same draw).
    cat_weights = list(accumulate(HEAVY.get(c.code, 1) for c in cats))
    city = grids[0][1].split("/")[0]

    event_id, record_id, clock_id = part.first_ids if part else next_ids()
    n_records = n_clocks = 0
    event_cols = ", ".join(EVENT_COLUMNS)
    record_cols = (
        "id, event_id, seq, action, actor_role, from_state, to_state, reason, data, created_at, prev_hash, hash"
    )
    clock_cols = (
        "id, event_id, step, working_time, limit_minutes, yellow_ratio, extension_minutes, paused_minutes, pauses, "
        "started_at, original_due_at, due_at, yellow_at, light, yellow_notified, red_notified, next_check_at"
    )
    due_left = due_now
    with transaction.atomic(), connection.cursor() as cursor:
        rebuild: list[str] = []
        if postgres:
            # Bulk load: skip the per-row deferred foreign-key triggers (the ids are consistent by
            # construction). Needs a superuser, as a benchmark database has.
            cursor.execute("SET LOCAL session_replication_role = replica")
            # Maintaining ten secondary indexes row by row costs PostgreSQL more than the whole
            # load; past a size, building them once afterwards is several times faster.
            if events >= REBUILD_INDEXES_FROM and part is None:
                rebuild = _drop_secondary_indexes(cursor, LOADED_TABLES)
        for chunk_start in range(0, events, CHUNK):
            event_rows, record_rows, clock_rows = [], [], []
            for i in range(chunk_start, min(events, chunk_start + CHUNK)):
                grid_id, path, _code = grids[rng.randrange(len(grids))]
                latitude, longitude = places[grid_id].pick(place_rng)
                codes = path.strip("/").split("/")
                street = codes[2]
                cat = rng.choices(cats, cum_weights=cat_weights)[0]
                reported = now - timedelta(seconds=rng.uniform(0, days * 86400))
                source, title, description = event_text(cat.code, rng)
                text = f"{title} {description}"
                routed = router(cat, grid_units[grid_id], source, reported, text) if router else None
                lead = routed.pk if routed is not None else None
                r = rng.random()
                if r < open_share:
                    final = rng.choices(OPEN_STATE_NAMES, cum_weights=OPEN_STATE_WEIGHTS)[0]
                elif r < open_share + 0.02:
                    final = "invalidated"
                else:
                    final = "closed"
                if lead is None and final != "invalidated":
                    final = "reported"  # nobody serves this place for this category: it waits
                steps: list[Step] = []
                if final == "invalidated":
                    steps = [("invalidate", "invalidated", "", {}, "supervisor")]
                elif final != "reported":
                    wrong = None
                    if rng.random() < wrong_share:
                        near = nearby.get((path, lead))
                        if near is None:
                            near = nearby[(path, lead)] = _near_departments(path, lead, depts)
                        wrong = _wrong_department(rng, near)
                    steps = _dispatch_steps(rng, lead, wrong, dept_codes)
                    steps += [(ACTION_INTO[s], s, "", {}, "system") for s in LOOP[2 : LOOP.index(final) + 1]]
                steps.insert(0, ("file", "reported", "", {}, "system"))
                t = reported
                prev = GENESIS
                previous_state = ""
                eid = event_id + i
                times: dict[str, datetime] = {}
                first_dispatch = None
                returns = 0
                for seq, (action, state, reason, data, role) in enumerate(steps, start=1):
                    times[state] = t
                    if action == "dispatch" and first_dispatch is None:
                        first_dispatch = t
                    returns += action == "return"
                    stored = data_json(data)
                    digest = system_record_hash(eid, seq, action, role, previous_state, state, reason, stored, t, prev)
                    record_rows.append(
                        (record_id + n_records, eid, seq, action, role, previous_state, state, reason, stored, t,
                         prev, digest)
                    )  # fmt: skip
                    n_records += 1
                    prev, previous_state = digest, state
                    t += timedelta(minutes=rng.uniform(5, 240))
                dispatched = times.get("dispatched") if final not in ("reported", "invalidated") else None
                due = None
                if final in CLOCK_STEP:
                    start = times[final]
                    if due_left > 0:
                        due, yellow, nxt = (
                            now + timedelta(hours=1),
                            now - timedelta(minutes=1),
                            now - timedelta(minutes=1),
                        )
                        due_left -= 1
                    else:
                        due = now + timedelta(days=rng.uniform(1, 5))
                        yellow = due - timedelta(hours=1)
                        nxt = yellow
                    clock_rows.append(
                        (clock_id + n_clocks, eid, CLOCK_STEP[final], True, 240, 0.8, 0, 0, "[]", start, due, due,
                         yellow, "green", False, False, nxt)
                    )  # fmt: skip
                    n_clocks += 1
                handled = times.get("handled")
                row = {
                    "id": eid, "code": f"{city}{reported:%Y%m%d}{eid:07d}", "title": title,
                    "description": description,
                    "category_id": cat.pk, "urgency": cat.default_urgency, "source": source,
                    "latitude": latitude, "longitude": longitude, "address": "", "grid_id": grid_id, "area_path": path,
                    "reporter_name": "", "reporter_phone": "", "state": final, "version": len(steps),
                    "owner_unit_id": units.get(street), "lead_department_id": lead if dispatched else None,
                    "merged_into_id": None, "self_handled": False, "rework_count": 0, "return_count": returns,
                    "reopen_count": 0, "urge_count": 0, "result_note": "", "due_at": due, "light": "green",
                    "reported_at": reported, "dispatched_at": dispatched, "accepted_at": times.get("accepted"),
                    "handled_at": handled, "verified_at": times.get("verified"), "closed_at": times.get("closed"),
                    "updated_at": t, "first_dispatched_at": first_dispatch if dispatched else None,
                    "handling_minutes": (handled - times["accepted"]).total_seconds() / 60 if handled else None,
                    "closed_on_time": True if final == "closed" else None, "extension_count": 0,
                    "suspension_count": 0,
                }  # fmt: skip
                # Sealed like the services seal it: the head of the chain and the row's report facts.
                row["history_anchor"] = compute_anchor(SimpleNamespace(pk=eid, **row), len(steps), prev)
                event_rows.append(tuple(row[column] for column in EVENT_COLUMNS))
            for table, columns, rows in (
                ("incidents_event", event_cols, event_rows),
                ("incidents_eventrecord", record_cols, record_rows),
                ("dispatch_slaclock", clock_cols, clock_rows),
            ):
                _write(cursor, table, columns, rows)
        for statement in rebuild:
            cursor.execute(statement)
    if postgres and part is None:
        for table in LOADED_TABLES:
            _bump_sequence(table)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE incidents_event; ANALYZE incidents_eventrecord; ANALYZE dispatch_slaclock")
    return GenerationResult(events, n_records, n_clocks, time.perf_counter() - started)
