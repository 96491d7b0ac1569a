import pytest
from django.core.management import call_command
from django.db import connection

from dispatch.models import SlaClock
from dispatch.sweep import sweep
from incidents.generator import generate
from incidents.models import Event, EventRecord

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the generator writes with PostgreSQL COPY"),
]


def test_generated_history_is_valid_and_sweepable(capsys):
    before = Event.objects.count()
    result = generate(500, days=30, open_share=0.2, due_now=7, seed=3)
    assert Event.objects.count() == before + 500
    assert EventRecord.objects.count() >= 500 and result.records == EventRecord.objects.count()
    call_command("verify_history")
    assert "histories verify" in capsys.readouterr().out
    assert SlaClock.objects.filter(stopped_at__isnull=True).count() == result.clocks
    assert sweep().checked == 7
    # Sequences continue after the copied ids: the services still insert.
    from tests.factories import file_event

    assert file_event().pk > max(Event.objects.exclude(title="暴露垃圾").values_list("id", flat=True))


def _indexes() -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
            "('incidents_event', 'incidents_eventrecord', 'dispatch_slaclock')"
        )
        # PostgreSQL may print a rebuilt partial index's predicate differently; compare the rest.
        return {(name, definition.split(" WHERE ")[0]) for name, definition in cursor.fetchall()}


def test_a_large_load_rebuilds_exactly_the_indexes_it_dropped(monkeypatch, capsys):
    from incidents import generator

    monkeypatch.setattr(generator, "REBUILD_INDEXES_FROM", 1)
    monkeypatch.setattr(generator, "CHUNK", 70)  # several COPY rounds
    before = _indexes()
    result = generate(200, days=10, seed=5)
    assert _indexes() == before
    assert result.events == 200
    call_command("verify_history")
    assert "histories verify" in capsys.readouterr().out
    with connection.cursor() as cursor:  # the rebuilt indexes answer queries (the planner may use them)
        cursor.execute("SET LOCAL enable_seqscan = off")
        assert Event.objects.filter(state="reported").order_by("due_at").count() >= 0
