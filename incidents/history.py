"""The per-event hash chain of history records (履历), anchored on the event row.

Each record's hash is SHA-256 over a canonical JSON of its content and its
predecessor's hash; the first record's predecessor is GENESIS. The chain alone
proves only the records before the last one: the last record can be deleted,
or rewritten with a recomputed SHA-256 (no secret needed), the whole history
can be deleted, and the event row itself is not in the chain at all.

So every change also seals the event: `Event.history_anchor` holds two keyed
MACs (HMAC-SHA-256 under a key the database does not hold: settings
HISTORY_HMAC_KEY, else SECRET_KEY), each cut to 128 bits:

- the head MAC over (event id, number of records, hash of the last record):
  a missing tail, a rewritten last record or a rebuilt chain no longer match;
- the row MAC over the same and the event row's facts that the lifecycle and
  the evaluation report read (ANCHORED_FIELDS): a state, result, on-time flag,
  department or counter changed behind the services no longer matches.

Verification starts from the event: records exist, the chain links, the
number of records equals `Event.version`, then both MACs.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from incidents.models import Event, EventRecord

GENESIS = "0" * 64

# The event row's facts an anchor binds: what the report counts (state, lead department, on-time
# flag, handling time, counters, first dispatch) and what the lifecycle shows as the truth (result,
# owner, step times). Not `due_at` / `light` (copies of the SLA clocks, moved by the sweep) nor
# `area_path` (a copy of the grid's path, rewritten when a unit is renamed): the grid is bound.
ANCHORED_FIELDS = (
    "code",
    "state",
    "version",
    "category",
    "urgency",
    "source",
    "grid",
    "owner_unit",
    "lead_department",
    "merged_into",
    "self_handled",
    "rework_count",
    "return_count",
    "reopen_count",
    "urge_count",
    "extension_count",
    "suspension_count",
    "result_note",
    "handling_minutes",
    "closed_on_time",
    "reported_at",
    "first_dispatched_at",
    "dispatched_at",
    "accepted_at",
    "handled_at",
    "verified_at",
    "closed_at",
)
# What verification reads of an event: the anchored facts, the anchor, and the code for the report.
VERIFY_FIELDS = ("id", "history_anchor", *ANCHORED_FIELDS)


def _timestamp(value: datetime) -> str:
    # "%Y-%m-%dT%H:%M:%S.%fZ", written by isoformat (several times faster than strftime): always
    # with microseconds, the UTC offset "+00:00" replaced by "Z".
    return value.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def canonical_content(record: EventRecord) -> bytes:
    content = {
        "event": record.event_id,
        "seq": record.seq,
        "action": record.action,
        "actor": record.actor_id,
        "role": record.actor_role,
        "unit": record.actor_unit_id,
        "department": record.actor_department_id,
        "from": record.from_state,
        "to": record.to_state,
        "reason": record.reason,
        "data": record.data,
        "at": _timestamp(record.created_at),
        "prev": record.prev_hash,
    }
    return _json(content)


def _json(content: dict) -> bytes:
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def compute_hash(record: EventRecord) -> str:
    return hashlib.sha256(canonical_content(record)).hexdigest()


@functools.lru_cache(maxsize=4096)
def _json_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def data_json(data: dict) -> str:
    """A record's data as canonical_content writes it (sorted keys, no spaces)."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")) if data else "{}"


def system_record_hash(
    event_id: int, seq: int, action: str, role: str, from_state: str, to_state: str, reason: str,
    data: str, created_at: datetime, prev_hash: str,
) -> str:  # fmt: skip
    """compute_hash of a record with no actor, unit or department, `data` given as data_json: the
    same bytes as canonical_content, written without building a record and a dict (the history
    generator hashes tens of millions). The keys in their sorted order."""
    text = (
        f'{{"action":{_json_string(action)},"actor":null,"at":"{_timestamp(created_at)}","data":{data},'
        f'"department":null,"event":{int(event_id)},"from":{_json_string(from_state)},'
        f'"prev":{_json_string(prev_hash)},"reason":{_json_string(reason)},"role":{_json_string(role)},'
        f'"seq":{int(seq)},"to":{_json_string(to_state)},"unit":null}}'
    )
    return hashlib.sha256(text.encode()).hexdigest()


# --- the anchor


def _key() -> bytes:
    key = getattr(settings, "HISTORY_HMAC_KEY", None) or settings.SECRET_KEY
    if not key:
        raise ImproperlyConfigured("History anchors need HISTORY_HMAC_KEY or SECRET_KEY.")
    return _derived(key)


@functools.lru_cache(maxsize=4)
def _derived(key: str) -> bytes:
    # A key of its own, derived: the MACs never use SECRET_KEY itself. Remembered per settings key
    # (two MACs per sealed event; the history generator seals millions).
    return hashlib.sha256(b"citygov.history-anchor\x00" + key.encode()).digest()


def _converter(field: models.Field) -> Callable[[Any], Any]:
    """How one field's value reads as the database gives it back, whatever Python type the service
    held; decided once per field (the anchor is computed on every change)."""
    for kind, convert in (
        (models.DateTimeField, _timestamp),
        (models.FloatField, float),
        (models.BooleanField, bool),
        (models.IntegerField | models.ForeignKey | models.AutoField, int),
    ):
        if isinstance(field, kind):
            return convert
    return str


@functools.cache
def _anchored() -> tuple[tuple[str, str, Callable[[Any], Any]], ...]:
    fields = (Event._meta.get_field(name) for name in ANCHORED_FIELDS)
    return tuple((field.name, field.attname, _converter(field)) for field in fields)


def row_facts(event) -> dict:
    """The anchored facts of an event row (an Event, or any object with the same attributes)."""
    out = {}
    for name, attname, convert in _anchored():
        value = getattr(event, attname)
        out[name] = None if value is None else convert(value)
    return out


def _mac(label: bytes, content: dict) -> str:
    return hmac.new(_key(), label + b"\x00" + _json(content), hashlib.sha256).hexdigest()[:32]


def compute_anchor(event, count: int, head: str) -> str:
    """The anchor of an event whose chain has `count` records ending in the hash `head`."""
    chain = {"event": int(event.pk), "records": count, "head": head}
    return _mac(b"head", chain) + _mac(b"row", {**chain, "row": row_facts(event)})


def append(event: Event, *, save_anchor: bool = True, **fields) -> EventRecord:
    """Append a record to the event's chain and seal the event's anchor over it.

    The caller holds the event row lock and has set the event's fields as they will be stored.
    The anchor is set on `event`; with `save_anchor` it is also written to the row (one UPDATE of
    that column); without, the caller saves the event row right after (services._base.commit).
    """
    last = EventRecord.objects.filter(event=event).order_by("-seq").values_list("seq", "hash").first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
    record = EventRecord(event=event, seq=seq, prev_hash=prev_hash, **fields)
    # JSON round trip now, so the hash is computed over what the database will return.
    record.data = json.loads(json.dumps(record.data or {}, ensure_ascii=False))
    record.hash = compute_hash(record)
    record.save(force_insert=True)
    event.history_anchor = compute_anchor(event, seq, record.hash)
    if save_anchor:
        Event.objects.filter(pk=event.pk).update(history_anchor=event.history_anchor)
    return record


def chain_new(event: Event, entries: list[dict]) -> list[EventRecord]:
    """The first records of an event not written yet, chained from GENESIS, and its anchor.

    Intake's hot path: a new event has no records, so nothing is read; each entry holds a record's
    fields (with its own `to_state`). The event must carry its id and its row as it will be
    inserted (the anchor binds both); the caller inserts the event, then the records in one statement.
    """
    records: list[EventRecord] = []
    prev_hash = GENESIS
    for seq, fields in enumerate(entries, start=1):
        record = EventRecord(event=event, seq=seq, prev_hash=prev_hash, **fields)
        record.data = json.loads(json.dumps(record.data or {}, ensure_ascii=False))
        record.hash = prev_hash = compute_hash(record)
        records.append(record)
    event.history_anchor = compute_anchor(event, len(records), prev_hash)
    return records


# --- verification


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    event_code: str | None
    record_id: int | None  # None when the event as a whole is wrong (no records, tail, anchor)
    seq: int
    problem: str
    anchor_only: bool = False  # records and count are right; only the anchor disagrees


def _chain_break(records: list[EventRecord]) -> tuple[EventRecord, str] | None:
    prev = GENESIS
    for expected_seq, record in enumerate(records, start=1):
        if record.seq != expected_seq:
            return record, f"sequence {record.seq} where {expected_seq} was expected (a record is missing)"
        if record.prev_hash != prev:
            return record, "previous-hash link does not match the record before it"
        if compute_hash(record) != record.hash:
            return record, "content does not match its hash (the record was changed)"
        prev = record.hash
    return None


def verify_event_chain(
    event_id: int, records: list[EventRecord] | None = None, event: Event | None = None
) -> ChainBreak | None:
    """Return what is wrong with one event's history, or None when it verifies.

    In order: no records at all, the first broken record of the chain, a record count other than
    the event's version (a missing tail), then the anchor over the head and the event row.
    """
    if event is None:
        event = Event.objects.filter(pk=event_id).only(*VERIFY_FIELDS).first()
    if records is None:
        records = list(EventRecord.objects.filter(event_id=event_id).order_by("seq"))
    if event is None:
        last = records[-1] if records else None
        return ChainBreak(event_id, None, last and last.pk, last.seq if last else 0, "the event row is missing")
    code = event.code
    if not records:
        return ChainBreak(
            event_id, code, None, 0, f"no history records at all (version {event.version}): every record was deleted"
        )
    if found := _chain_break(records):
        record, problem = found
        return ChainBreak(event_id, code, record.pk, record.seq, problem)
    count, head = len(records), records[-1]
    if count < event.version:
        missing = event.version - count
        return ChainBreak(
            event_id,
            code,
            None,
            count,
            f"the last {missing} record(s) are missing (the tail): {count} records, version {event.version}",
        )
    if count > event.version:
        return ChainBreak(
            event_id, code, None, count, f"{count} records but version {event.version}: the version was changed"
        )
    stored = event.history_anchor or ""
    if not stored:
        return ChainBreak(event_id, code, None, count, "the event has no anchor", anchor_only=True)
    expected = compute_anchor(event, count, head.hash)
    if not hmac.compare_digest(stored[:32], expected[:32]):
        return ChainBreak(
            event_id,
            code,
            head.pk,
            head.seq,
            "the last record does not match the event's anchor (the head was rewritten or replaced)",
            anchor_only=True,
        )
    if not hmac.compare_digest(stored[32:], expected[32:]):
        return ChainBreak(
            event_id,
            code,
            None,
            count,
            "the event row does not match its anchor (state, result, on-time flag, department, "
            "counters or times were changed outside the services)",
            anchor_only=True,
        )
    return None


def event_histories(batch: int = 2000, code: str | None = None) -> Iterator[tuple[Event, list[EventRecord]]]:
    """Every event with its records in order, read in batches of events (keyset on the id).

    Starts from the events, so an event whose records are all gone is still visited. Each batch is
    two queries: its events, then the records of that id range (the (event, seq) index).
    """
    events = Event.objects.only(*VERIFY_FIELDS).order_by("pk")
    if code:
        events = events.filter(code=code)
    after = 0
    while True:
        chunk = list(events.filter(pk__gt=after)[:batch])
        if not chunk:
            return
        first, after = chunk[0].pk, chunk[-1].pk
        by_event: dict[int, list[EventRecord]] = {}
        records = EventRecord.objects.filter(event_id__gte=first, event_id__lte=after).order_by("event_id", "seq")
        for record in records.iterator(chunk_size=10_000):
            by_event.setdefault(record.event_id, []).append(record)
        for event in chunk:
            yield event, by_event.get(event.pk, [])


def reanchor(event: Event, records: list[EventRecord]) -> None:
    """Seal the event again over its records and row as they are now (after a key change)."""
    anchor = compute_anchor(event, len(records), records[-1].hash)
    Event.objects.filter(pk=event.pk).update(history_anchor=anchor)
    event.history_anchor = anchor
