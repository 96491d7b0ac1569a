"""core.inserts.insert_new writes what bulk_create writes, in one statement (issue #20)."""

import pytest
from django.db import connection
from django.db.models import Value
from django.db.models.functions import Upper
from django.test.utils import CaptureQueriesContext

from core.inserts import insert_new
from dispatch.models import OutboxMessage
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
