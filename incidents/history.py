"""The per-event hash chain of history records.

Each record's hash is SHA-256 over a canonical JSON of its content and its
predecessor's hash. The first record's predecessor is GENESIS. Verification
recomputes every hash from the stored fields.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from .models import Event, EventRecord

GENESIS = "0" * 64


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def compute_hash(record: EventRecord) -> str:
    return hashlib.sha256(canonical_content(record)).hexdigest()


def append(event: Event, **fields) -> EventRecord:
    """Append a record to the event's chain. The caller holds the event row lock."""
    last = EventRecord.objects.filter(event=event).order_by("-seq").values_list("seq", "hash").first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
    record = EventRecord(event=event, seq=seq, prev_hash=prev_hash, **fields)
    # JSON round trip now, so the hash is computed over what the database will return.
    record.data = json.loads(json.dumps(record.data or {}, ensure_ascii=False))
    record.hash = compute_hash(record)
    record.save(force_insert=True)
    return record


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    event_code: str | None
    record_id: int
    seq: int
    problem: str


def verify_event_chain(event_id: int, records: list[EventRecord] | None = None) -> ChainBreak | None:
    """Return the first broken record of one event's chain, or None when it verifies."""
    if records is None:
        records = list(EventRecord.objects.filter(event_id=event_id).order_by("seq"))
    prev = GENESIS
    code = None
    for expected_seq, record in enumerate(records, start=1):
        problem = None
        if record.seq != expected_seq:
            problem = f"sequence {record.seq} where {expected_seq} was expected (a record is missing)"
        elif record.prev_hash != prev:
            problem = "previous-hash link does not match the record before it"
        elif compute_hash(record) != record.hash:
            problem = "content does not match its hash (the record was changed)"
        if problem:
            if code is None:
                code = Event.objects.filter(pk=event_id).values_list("code", flat=True).first()
            return ChainBreak(event_id, code, record.pk, record.seq, problem)
        prev = record.hash
    return None
