import itertools

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from incidents.history import GENESIS, verify_event_chain
from incidents.models import EventRecord
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
    from incidents.history import compute_hash

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
