import pytest
from django.core.management import call_command
from django.db import connection

from dispatch.models import SlaClock
from dispatch.routing import history_router
from incidents.generator import generate
from incidents.models import Event, EventRecord
from operations.sweep import sweep

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the generator writes with PostgreSQL COPY"),
]


def test_generated_history_is_valid_and_sweepable(capsys):
    before = Event.objects.count()
    result = generate(500, days=30, open_share=0.2, due_now=7, seed=3, router=history_router())
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
    dropped = []
    real_drop = generator._drop_secondary_indexes
    monkeypatch.setattr(
        generator, "_drop_secondary_indexes", lambda *args: dropped.extend(real_drop(*args)) or list(dropped)
    )
    before, oids_before = _indexes(), _index_oids()
    result = generate(200, days=10, seed=5, router=history_router())
    assert len(dropped) >= 8  # the plain indexes of the three tables went away during the load
    assert not any("UNIQUE" in statement for statement in dropped)
    assert _indexes() == before  # and came back, the same
    rebuilt = {name for name, _oid in _index_oids() - oids_before}
    assert rebuilt == {statement.split()[2] for statement in dropped}
    assert result.events == 200
    call_command("verify_history")
    assert "histories verify" in capsys.readouterr().out


def _index_oids() -> set[tuple[str, int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::regclass::text, indexrelid::int FROM pg_index WHERE indrelid IN "
            "('incidents_event'::regclass, 'incidents_eventrecord'::regclass, 'dispatch_slaclock'::regclass)"
        )
        return set(cursor.fetchall())


def test_parts_loaded_side_by_side_verify_and_do_not_collide(capsys):
    """What generate_history --workers does, in one process: disjoint id ranges per part, one now,
    indexes dropped before and rebuilt after, sequences past every id."""
    from django.utils import timezone

    from incidents.generator import begin_bulk_load, end_bulk_load, split

    before = Event.objects.count()
    parts = split(301, 2, due_now=5, seed=9, now=timezone.now())
    assert [count for count, *_ in parts] == [151, 150] and [due for _c, due, *_ in parts] == [3, 2]
    rebuild = begin_bulk_load()
    records = 0
    try:
        for count, due, seed, part in parts:
            records += generate(count, days=20, due_now=due, seed=seed, router=history_router(), part=part).records
    finally:
        end_bulk_load(rebuild)
    assert Event.objects.count() == before + 301
    assert EventRecord.objects.count() >= records
    call_command("verify_history")
    assert "histories verify" in capsys.readouterr().out
    from tests.factories import file_event

    assert file_event().pk > max(Event.objects.exclude(title="暴露垃圾").values_list("id", flat=True))
