"""core.inserts.insert_new writes what bulk_create writes, in one statement (issue #20)."""

import pytest
from django.db import connection
from django.db.models import Value
from django.db.models.functions import Upper
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from core.inserts import insert_new
from dispatch.models import OutboxMessage, SlaClock
from tests.factories import file_event

pytestmark = pytest.mark.django_db


def _stored(ids):
    return list(
        OutboxMessage.objects.filter(pk__in=ids)
        .order_by("pk")
        .values_list("topic", "event_id", "payload", "processed_at", "attempts")
    )


def test_rows_as_bulk_create_writes_them_one_statement_ids_in_order():
    event = file_event()
    rows = [("a", event, {"n": 1, "文": "字"}), ("b", None, {}), ("c", event, {"nested": [1, {"x": None}]})]
    expected = OutboxMessage.objects.bulk_create([OutboxMessage(topic=t, event=e, payload=p) for t, e, p in rows])
    new = [OutboxMessage(topic=t, event=e, payload=p) for t, e, p in rows]
    with CaptureQueriesContext(connection) as queries:
        inserted = insert_new(new)
    assert len(queries.captured_queries) == 1
    assert inserted == new
    assert [m.pk for m in new] == sorted(m.pk for m in new)
    assert all(m.pk is not None and not m._state.adding and m._state.db == "default" for m in new)
    assert _stored([m.pk for m in new]) == _stored([m.pk for m in expected])
    assert [m.topic for m in OutboxMessage.objects.filter(pk__in=[m.pk for m in new]).order_by("pk")] == ["a", "b", "c"]
    assert all(m.created_at is not None for m in new)  # auto_now_add, set by the field as the ORM does


def test_rows_with_their_primary_key_keep_it():
    top = OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    new = [OutboxMessage(pk=top + 10, topic="x", payload={}), OutboxMessage(pk=top + 11, topic="y", payload={})]
    insert_new(new)
    assert list(OutboxMessage.objects.filter(pk__gt=top).order_by("pk").values_list("pk", "topic")) == [
        (top + 10, "x"),
        (top + 11, "y"),
    ]


def test_an_expression_value_goes_to_bulk_create():
    new = [OutboxMessage(topic=Upper(Value("low")), payload={})]
    insert_new(new)
    assert OutboxMessage.objects.get(pk=new[0].pk).topic == "LOW"


def test_nothing_to_insert():
    with CaptureQueriesContext(connection) as queries:
        assert insert_new([]) == []
    assert queries.captured_queries == []


def test_nulls_and_booleans_are_literals_and_store_what_bulk_create_stores():
    """An intake's three clocks (NULLs, booleans of both values) go in with fewer than psycopg's
    50 cached-statement parameters, and read back exactly as bulk_create's copies of them."""
    event = file_event()
    base = model_to_dict(SlaClock.objects.filter(event=event).first(), exclude=["id", "event", "policy"])

    # Stopped, so a copy may stand beside the running clock of its step.
    base.update(stopped_at=event.reported_at, paused_at=None, elapsed_minutes=None)

    def clocks():
        return [
            SlaClock(**{**base, "event": event, "step": "s1", "working_time": True}),
            SlaClock(**{**base, "event": event, "step": "s2", "red_notified": True}),
            SlaClock(**{**base, "event": event, "step": "s3", "elapsed_minutes": 1.5, "working_time": False}),
        ]

    columns = [f.attname for f in SlaClock._meta.concrete_fields if f.attname != "id"]
    expected = SlaClock.objects.bulk_create(clocks())
    sent = []

    def capture(execute, sql, params, many, context):
        sent.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        new = insert_new(clocks())
    [(sql, params)] = sent
    assert "NULL" in sql and "TRUE" in sql and "FALSE" in sql
    assert len(params) < 50
    assert not any(p is None or isinstance(p, bool) for p in params)

    def stored(rows):
        return list(SlaClock.objects.filter(pk__in=[r.pk for r in rows]).order_by("step").values_list(*columns))

    assert stored(new) == stored(expected)
    assert [c.red_notified for c in SlaClock.objects.filter(pk__in=[c.pk for c in new]).order_by("step")] == [
        False,
        True,
        False,
    ]
