"""A realistic event history for benchmarks: PostgreSQL COPY, valid anchored hash chains, running clocks.

Not used by the product; `manage.py generate_history` and bench/ call it.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

from django.db import connection, transaction
from django.utils import timezone

from accounts.geometry import PointPicker
from accounts.models import Department, OrgUnit, Tier
from incidents.history import GENESIS, compute_anchor, compute_hash
from incidents.models import Category

# Major class → department type that usually handles it.
TYPE_FOR_CLASS = {
    "E01": "huanwei", "C03": "huanwei", "E02": "chengguan", "E03": "chengguan", "E05": "chengguan",
    "E06": "chengguan", "E04": "yingji", "C01": "shizheng", "C05": "shizheng", "C02": "gongan", "C04": "yuanlin",
}  # fmt: skip
# A city's category mix: a few categories make most of the volume.
HEAVY = {"E0101": 18, "E0103": 8, "E0504": 7, "E0503": 6, "E0201": 6, "E0301": 5, "C0104": 4, "C0501": 4, "E0402": 3}
OPEN_STATES = [("reported", 20), ("dispatched", 20), ("accepted", 40), ("handled", 10), ("verified", 10)]
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


def generate(
    events: int, days: int = 365, open_share: float = 0.1, due_now: int = 0, seed: int = 1
) -> GenerationResult:
    if connection.vendor != "postgresql":
        raise RuntimeError("The generator uses PostgreSQL COPY; set DATABASE_URL to a PostgreSQL database.")
    rng = random.Random(seed)  # noqa: S311 - benchmark data, not secrets
    started = time.perf_counter()
    now = timezone.now()
    grids = list(OrgUnit.objects.filter(tier=Tier.GRID).values_list("id", "path", "code"))
    places = {pk: PointPicker(b) for pk, b in OrgUnit.objects.filter(tier=Tier.GRID).values_list("id", "boundary")}
    place_rng = random.Random(seed + 1)  # noqa: S311 - its own stream: the rest of the data stays as it was
    units = {u.code: u.pk for u in OrgUnit.objects.filter(tier__in=[Tier.STREET, Tier.DISTRICT])}
    depts = {(d.org_unit.code, d.type.code): d.pk for d in Department.objects.select_related("org_unit", "type")}
    cats = list(Category.objects.filter(parent__isnull=False).select_related("parent"))
    weights = [HEAVY.get(c.code, 1) for c in cats]
    city = grids[0][1].split("/")[0]

    event_id, record_id, clock_id = (
        _next_id("incidents_event"),
        _next_id("incidents_eventrecord"),
        _next_id("dispatch_slaclock"),
    )
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
        raw = cursor.cursor  # psycopg cursor for COPY
        # Bulk load: skip the per-row deferred foreign-key triggers (the ids are consistent by
        # construction). Needs a superuser, as a benchmark database has.
        cursor.execute("SET LOCAL session_replication_role = replica")
        # Maintaining ten secondary indexes row by row costs PostgreSQL more than the whole
        # load; past a size, building them once afterwards is several times faster.
        rebuild = _drop_secondary_indexes(cursor, LOADED_TABLES) if events >= REBUILD_INDEXES_FROM else []
        for chunk_start in range(0, events, CHUNK):
            event_rows, record_rows, clock_rows = [], [], []
            for i in range(chunk_start, min(events, chunk_start + CHUNK)):
                grid_id, path, _code = grids[rng.randrange(len(grids))]
                latitude, longitude = places[grid_id].pick(place_rng)
                codes = path.strip("/").split("/")
                street, district = codes[2], codes[1]
                cat = rng.choices(cats, weights)[0]
                type_code = TYPE_FOR_CLASS.get(cat.parent.code, "chengguan")
                lead = depts.get((street, type_code)) or depts.get((district, type_code))
                reported = now - timedelta(seconds=rng.uniform(0, days * 86400))
                r = rng.random()
                if r < open_share:
                    final = rng.choices([s for s, _ in OPEN_STATES], [w for _, w in OPEN_STATES])[0]
                elif r < open_share + 0.02:
                    final = "invalidated"
                else:
                    final = "closed"
                path_states = ["reported", "invalidated"] if final == "invalidated" else LOOP[: LOOP.index(final) + 1]
                times = {}
                t = reported
                for state in path_states:
                    times[state] = t
                    t += timedelta(minutes=rng.uniform(5, 240))
                eid = event_id + i
                prev = GENESIS
                previous_state = ""
                for seq, state in enumerate(path_states, start=1):
                    rec = SimpleNamespace(
                        event_id=eid, seq=seq, action=ACTION_INTO[state], actor_id=None, actor_role="system",
                        actor_unit_id=None, actor_department_id=None, from_state=previous_state, to_state=state,
                        reason="", data={}, created_at=times[state], prev_hash=prev,
                    )  # fmt: skip
                    rec.hash = compute_hash(rec)
                    record_rows.append(
                        (record_id + n_records, eid, seq, rec.action, "system", previous_state, state, "", "{}",
                         times[state], prev, rec.hash)
                    )  # fmt: skip
                    n_records += 1
                    prev, previous_state = rec.hash, state
                dispatched = times.get("dispatched")
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
                    "id": eid, "code": f"{city}{reported:%Y%m%d}{eid:07d}", "title": cat.name, "description": "",
                    "category_id": cat.pk, "urgency": cat.default_urgency, "source": "grid_worker",
                    "latitude": latitude, "longitude": longitude, "address": "", "grid_id": grid_id, "area_path": path,
                    "reporter_name": "", "reporter_phone": "", "state": final, "version": len(path_states),
                    "owner_unit_id": units.get(street), "lead_department_id": lead if dispatched else None,
                    "merged_into_id": None, "self_handled": False, "rework_count": 0, "return_count": 0,
                    "reopen_count": 0, "urge_count": 0, "result_note": "", "due_at": due, "light": "green",
                    "reported_at": reported, "dispatched_at": dispatched, "accepted_at": times.get("accepted"),
                    "handled_at": handled, "verified_at": times.get("verified"), "closed_at": times.get("closed"),
                    "updated_at": t, "first_dispatched_at": dispatched,
                    "handling_minutes": (handled - times["accepted"]).total_seconds() / 60 if handled else None,
                    "closed_on_time": True if final == "closed" else None, "extension_count": 0,
                    "suspension_count": 0,
                }  # fmt: skip
                # Sealed like the services seal it: the head of the chain and the row's report facts.
                row["history_anchor"] = compute_anchor(SimpleNamespace(pk=eid, **row), len(path_states), prev)
                event_rows.append(tuple(row[column] for column in EVENT_COLUMNS))
            for table, columns, rows in (
                ("incidents_event", event_cols, event_rows),
                ("incidents_eventrecord", record_cols, record_rows),
                ("dispatch_slaclock", clock_cols, clock_rows),
            ):
                with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        for statement in rebuild:
            cursor.execute(statement)
    for table in ("incidents_event", "incidents_eventrecord", "dispatch_slaclock"):
        _bump_sequence(table)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_event; ANALYZE incidents_eventrecord; ANALYZE dispatch_slaclock")
    return GenerationResult(events, n_records, n_clocks, time.perf_counter() - started)
