import importlib
import itertools
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from freezegun import freeze_time

from incidents.history import GENESIS, compute_anchor, compute_hash, verify_event_chain
from incidents.models import Event, EventRecord, State
from tests.factories import closed_event, file_event

pytestmark = pytest.mark.django_db


def test_each_record_links_to_its_predecessor():
    event = closed_event()
    records = list(event.records.order_by("seq"))
    assert records[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(records):
        assert after.prev_hash == before.hash
    assert len({r.hash for r in records}) == len(records)


def test_verify_command_passes_on_intact_history(capsys):
    closed_event()
    call_command("verify_history")
    assert "histories verify" in capsys.readouterr().out


def _tamper(sql: str, params: list) -> None:
    """Edit history behind the application's back, as someone with table-owner rights could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A superuser can switch ordinary triggers off for the session.
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = origin")


def test_editing_one_row_makes_the_command_name_that_event_and_record(capsys):
    intact = closed_event()
    event = closed_event()
    target = event.records.get(seq=3)
    _tamper("UPDATE incidents_eventrecord SET reason = %s WHERE id = %s", ["改过的原因", target.pk])
    with pytest.raises(CommandError, match="1 of"):
        call_command("verify_history")
    err = capsys.readouterr().err
    assert f"BROKEN event {event.code}" in err
    assert f"record #3 (id {target.pk})" in err
    assert "changed" in err
    assert intact.code not in err


def test_deleting_a_record_breaks_the_chain_at_the_gap():
    event = closed_event()
    _tamper("DELETE FROM incidents_eventrecord WHERE id = %s", [event.records.get(seq=2).pk])
    broken = verify_event_chain(event.pk)
    assert broken.seq == 3 and "missing" in broken.problem


def test_rewriting_a_record_and_its_hash_still_breaks_the_next_link():
    event = closed_event()
    rec = event.records.get(seq=2)
    rec.reason = "forged"
    forged = compute_hash(rec)
    _tamper("UPDATE incidents_eventrecord SET reason = %s, hash = %s WHERE id = %s", ["forged", forged, rec.pk])
    broken = verify_event_chain(event.pk)
    assert broken.seq == 3 and "previous-hash" in broken.problem


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only")
@pytest.mark.parametrize(
    "sql",
    ["UPDATE incidents_eventrecord SET reason = 'x' WHERE id = %s", "DELETE FROM incidents_eventrecord WHERE id = %s"],
)
def test_postgresql_refuses_update_and_delete(sql):
    event = file_event()
    rec = event.records.get()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [rec.pk])
    assert EventRecord.objects.get(pk=rec.pk).reason == rec.reason


# --- the anchor: the tail, the head, the event row, empty histories (#13 item 8)


def _delete_records(event, **filters) -> None:
    ids = list(event.records.filter(**filters).values_list("pk", flat=True))
    _tamper("DELETE FROM incidents_eventrecord WHERE id IN (%s)" % ",".join(["%s"] * len(ids)), ids)  # noqa: UP031


def _rewrite_head(event) -> EventRecord:
    """Rewrite the last record and recompute its SHA-256: the chain alone still verifies."""
    head = event.records.order_by("-seq").first()
    head.reason = "伪造的结案说明"
    _tamper(
        "UPDATE incidents_eventrecord SET reason = %s, hash = %s WHERE id = %s",
        [head.reason, compute_hash(head), head.pk],
    )
    return head


def test_deleting_the_last_record_is_a_missing_tail():
    event = closed_event()
    _delete_records(event, seq=event.version)
    broken = verify_event_chain(event.pk)
    assert broken is not None and broken.record_id is None
    assert "missing (the tail)" in broken.problem and f"version {event.version}" in broken.problem


def test_deleting_the_tail_and_lowering_the_version_still_breaks_the_anchor():
    event = closed_event()
    _delete_records(event, seq=event.version)
    Event.objects.filter(pk=event.pk).update(version=event.version - 1)
    broken = verify_event_chain(event.pk)
    assert broken is not None and "head was rewritten or replaced" in broken.problem


def test_rewriting_the_last_record_with_a_recomputed_hash_breaks_the_anchor():
    event = closed_event()
    head = _rewrite_head(event)
    broken = verify_event_chain(event.pk)
    assert broken is not None and (broken.seq, broken.record_id) == (head.seq, head.pk)
    assert "head was rewritten or replaced" in broken.problem


@pytest.mark.parametrize(
    "change",
    [
        {"state": State.INVALIDATED},
        {"closed_on_time": False},
        {"result_note": "其实没处理"},
        {"lead_department": None},
        {"rework_count": 3},
        {"handling_minutes": 1.0},
    ],
    ids=lambda change: next(iter(change)),
)
def test_changing_the_event_row_behind_the_services_breaks_the_anchor(change):
    event = closed_event()
    Event.objects.filter(pk=event.pk).update(**change)
    broken = verify_event_chain(event.pk)
    assert broken is not None and "event row does not match its anchor" in broken.problem


def test_an_event_whose_records_are_all_deleted_is_named():
    event = closed_event()
    _delete_records(event)
    broken = verify_event_chain(event.pk)
    assert broken is not None and "no history records at all" in broken.problem


def test_an_anchor_forged_without_the_key_is_refused():
    """Someone who can write the database but has not the key cannot seal a rewritten head."""
    event = closed_event()
    _rewrite_head(event)
    records = list(event.records.order_by("seq"))
    event.refresh_from_db()
    with override_settings(HISTORY_HMAC_KEY="guessed-in-the-database"):
        forged = compute_anchor(event, len(records), records[-1].hash)
    Event.objects.filter(pk=event.pk).update(history_anchor=forged)
    assert "head was rewritten" in verify_event_chain(event.pk).problem


def test_every_step_of_a_lifecycle_keeps_the_anchor_right():
    """Filing, the services, the merge's absorb record and the sweep all leave verifiable events."""
    from dispatch.models import SlaClock
    from operations import services
    from operations.sweep import sweep
    from tests.factories import user

    with freeze_time("2026-11-25 02:00:00"):
        target, duplicate, waiting = file_event(), file_event(), file_event()
        services.event_merge(actor=user("op_nanhu"), event_id=duplicate.pk, into_event_id=target.pk)
    with freeze_time("2026-11-26 02:00:00"):
        # Red marks (the event's due time and light change with no record) and the escalation.
        assert sweep().red >= 2
    closed = closed_event()
    for event in (target, duplicate, waiting, closed):
        assert verify_event_chain(event.pk) is None
    assert SlaClock.objects.filter(event=waiting, breached_at__isnull=False).exists()
    assert Event.objects.get(pk=target.pk).version >= 2  # filed, absorbed the duplicate (then escalated)


def test_verify_history_starts_from_the_events_and_names_each_break(capsys):
    intact = closed_event()
    tail, head, row, emptied = closed_event(), closed_event(), closed_event(), closed_event()
    _delete_records(tail, seq=tail.version)
    _rewrite_head(head)
    Event.objects.filter(pk=row.pk).update(closed_on_time=False)
    _delete_records(emptied)
    with pytest.raises(CommandError, match="4 of 5 event histories are broken"):
        call_command("verify_history", batch=2)  # batches smaller than the number of events
    err = capsys.readouterr().err
    lines = {line.split(" (id")[0].removeprefix("BROKEN event "): line for line in err.splitlines()}
    assert set(lines) == {tail.code, head.code, row.code, emptied.code}
    assert "missing (the tail)" in lines[tail.code]
    assert f"record #{head.version}" in lines[head.code] and "head was rewritten" in lines[head.code]
    assert "event row does not match" in lines[row.code]
    assert "no history records at all" in lines[emptied.code]
    assert intact.code not in err


def test_verify_history_of_one_event(capsys):
    event, other = closed_event(), closed_event()
    Event.objects.filter(pk=other.pk).update(result_note="改过")
    call_command("verify_history", event=event.code)
    assert "All 1 event histories verify." in capsys.readouterr().out
    with pytest.raises(CommandError, match="No event"):
        call_command("verify_history", event="NO-SUCH-CODE")


def test_reanchor_after_a_key_change_seals_only_complete_histories(capsys):
    event, tail = closed_event(), closed_event()
    _delete_records(tail, seq=tail.version)
    with override_settings(HISTORY_HMAC_KEY="the-new-key-from-the-vault"):
        with pytest.raises(CommandError, match="2 of 2"):
            call_command("verify_history")
        with pytest.raises(CommandError, match="1 of 2"):
            call_command("verify_history", reanchor=True)
        assert verify_event_chain(event.pk) is None
        assert "missing (the tail)" in verify_event_chain(tail.pk).problem
    assert "Sealed 1 events again" in capsys.readouterr().out


def test_the_data_migration_seals_existing_histories_as_the_services_do():
    from django.apps import apps

    migration = importlib.import_module("incidents.migrations.0011_anchor_existing_histories")
    sealed, tail = closed_event(), closed_event()
    anchor = Event.objects.get(pk=sealed.pk).history_anchor
    _delete_records(tail, seq=tail.version)
    Event.objects.update(history_anchor="")  # as before migration 0010
    migration.seal(apps, SimpleNamespace(connection=connection))
    assert Event.objects.get(pk=sealed.pk).history_anchor == anchor
    assert Event.objects.get(pk=tail.pk).history_anchor == ""  # an incomplete history is not blessed
    assert verify_event_chain(sealed.pk) is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only")
@pytest.mark.parametrize("sql", ["TRUNCATE incidents_eventrecord", "TRUNCATE incidents_event CASCADE"])
def test_postgresql_refuses_truncate(sql):
    event = closed_event()
    with connection.cursor() as cursor:
        # The test's own transaction holds deferred foreign-key checks, which TRUNCATE refuses first.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(DatabaseError, match="append-only: TRUNCATE"), transaction.atomic(), connection.cursor() as c:
        c.execute(sql)
    assert event.records.count() == event.version


@pytest.mark.parametrize(
    "fields",
    [
        {"action": "file", "actor_role": "system", "from_state": "", "to_state": "reported", "reason": "", "data": {}},
        {
            "action": "return",
            "actor_role": "handler",
            "from_state": "dispatched",
            "to_state": "reported",
            "reason": '不属于我单位 "职责"\\范围\n',
            "data": {"withdrawn_requests": [], "department": "990102001-huanwei"},
        },
        {
            "action": "redispatch",
            "actor_role": "operator",
            "from_state": "dispatched",
            "to_state": "dispatched",
            "reason": "派错部门，改派",
            "data": {"previous": "a", "department": "b", "co_departments": ["c", "d"], "n": {"z": 1, "a": None}},
        },
    ],
)
@pytest.mark.parametrize("micro", [0, 7, 678901])
def test_the_generators_system_record_hash_is_compute_hash(fields, micro):
    """The history generator hashes without building records: the same bytes, or verify_history fails."""
    from datetime import UTC, datetime, timedelta, timezone

    from incidents.history import data_json, system_record_hash

    at = datetime(2026, 3, 4, 5, 6, 7, micro, tzinfo=timezone(timedelta(hours=8)))
    record = SimpleNamespace(
        event_id=123456, seq=3, actor_id=None, actor_unit_id=None, actor_department_id=None, created_at=at,
        prev_hash="ab" * 32, **fields,
    )  # fmt: skip
    fast = system_record_hash(
        123456, 3, fields["action"], fields["actor_role"], fields["from_state"], fields["to_state"],
        fields["reason"], data_json(fields["data"]), at.astimezone(UTC), "ab" * 32,
    )  # fmt: skip
    assert fast == compute_hash(record)
