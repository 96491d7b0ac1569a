"""Two operators on one event at the same moment: one wins, one gets a conflict."""

import threading

import pytest
from django.db import connection, connections

from core.errors import Conflict
from incidents.models import Event, EventRecord
from operations import services
from tests.factories import dept, file_event, user


def _race(calls) -> list:
    """Run each call in its own thread and connection, released together by a barrier."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=10)
            outcomes[i] = call()
        except Exception as exc:
            outcomes[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return outcomes


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks across connections need PostgreSQL")
@pytest.mark.usefixtures("committed_city")
@pytest.mark.parametrize("repeat", range(3))
def test_two_threads_one_success_one_conflict_one_record(repeat):
    event = file_event()
    op_street, op_district = user("op_nanhu"), user("op_jiangnan")
    street_dept, district_dept = dept("990102001-huanwei"), dept("990102-huanwei")
    outcomes = _race(
        [
            lambda: services.event_dispatch(actor=op_street, event_id=event.pk, department=street_dept),
            lambda: services.event_dispatch(actor=op_district, event_id=event.pk, department=district_dept),
        ]
    )
    successes = [o for o in outcomes if isinstance(o, Event)]
    conflicts = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(successes) == 1 and len(conflicts) == 1, outcomes
    assert conflicts[0].code == "invalid_transition"
    assert EventRecord.objects.filter(event=event, action="dispatch").count() == 1
    fresh = Event.objects.get(pk=event.pk)
    assert fresh.lead_department == successes[0].lead_department
    assert fresh.version == fresh.records.count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks across connections need PostgreSQL")
@pytest.mark.usefixtures("committed_city")
def test_same_version_different_operations_conflict_cleanly():
    event = file_event()
    op = user("op_nanhu")
    outcomes = _race(
        [
            lambda: services.event_escalate(actor=op, event_id=event.pk, reason="a", expected_version=1),
            lambda: services.event_dispatch(
                actor=op, event_id=event.pk, department=dept("990102001-huanwei"), expected_version=1
            ),
        ]
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "Event"], outcomes
    assert Event.objects.get(pk=event.pk).records.count() == 2
