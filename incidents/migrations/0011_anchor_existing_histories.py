"""Seal the histories written before anchors existed (0010 added `Event.history_anchor`).

Each event whose records are complete (as many as its version, numbered 1..version) gets the
anchor over its last record and its row as they are now. An event whose history is already
incomplete gets none: `verify_history` names it instead of this migration blessing the gap.

This is a frozen copy of the anchor of incidents.history as it was when this migration was
written (tests/incidents/test_history.py checks the two agree). If the anchored facts change
later, a later migration seals again; this one must keep computing what it computed.
"""

import hashlib
import hmac
import json
from datetime import UTC

from django.conf import settings
from django.db import migrations, models

BATCH = 2000
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


def _key() -> bytes:
    key = getattr(settings, "HISTORY_HMAC_KEY", None) or settings.SECRET_KEY
    return hashlib.sha256(b"citygov.history-anchor\x00" + key.encode()).digest()


def _json(content: dict) -> bytes:
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _canonical(field, value):
    if value is None:
        return None
    if isinstance(field, models.DateTimeField):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(field, models.FloatField):
        return float(value)
    if isinstance(field, models.BooleanField):
        return bool(value)
    if isinstance(field, models.IntegerField | models.ForeignKey | models.AutoField):
        return int(value)
    return str(value)


def anchor(key: bytes, fields, row: dict, count: int, head: str) -> str:
    chain = {"event": int(row["id"]), "records": count, "head": head}
    facts = {field.name: _canonical(field, row[field.attname]) for field in fields}

    def mac(label: bytes, content: dict) -> str:
        return hmac.new(key, label + b"\x00" + _json(content), hashlib.sha256).hexdigest()[:32]

    return mac(b"head", chain) + mac(b"row", {**chain, "row": facts})


def seal(apps, schema_editor):
    Event = apps.get_model("incidents", "Event")
    EventRecord = apps.get_model("incidents", "EventRecord")
    db = schema_editor.connection.alias
    if not Event.objects.using(db).exists():
        return
    key = _key()
    fields = [Event._meta.get_field(name) for name in ANCHORED_FIELDS]
    columns = ["id", "version", *(field.attname for field in fields)]
    after = 0
    while True:
        rows = list(Event.objects.using(db).filter(pk__gt=after).order_by("pk").values(*columns)[:BATCH])
        if not rows:
            return
        first, after = rows[0]["id"], rows[-1]["id"]
        heads: dict[int, tuple[int, int, str]] = {}  # event → (records, last seq, last hash)
        records = (
            EventRecord.objects.using(db)
            .filter(event_id__gte=first, event_id__lte=after)
            .order_by("event_id", "seq")
            .values_list("event_id", "seq", "hash")
        )
        for event_id, seq, digest in records.iterator(chunk_size=10_000):
            heads[event_id] = (heads.get(event_id, (0, 0, ""))[0] + 1, seq, digest)
        sealed = []
        for row in rows:
            count, last_seq, head = heads.get(row["id"], (0, 0, ""))
            if count and count == last_seq == row["version"]:
                sealed.append(Event(pk=row["id"], history_anchor=anchor(key, fields, row, count, head)))
        Event.objects.using(db).bulk_update(sealed, ["history_anchor"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0010_event_history_anchor")]

    # Nothing to undo: 0010's reversal drops the column.
    operations = [migrations.RunPython(seal, migrations.RunPython.noop)]
