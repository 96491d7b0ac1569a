"""core.rows: instances from a written-out SELECT equal what the ORM loads."""

from __future__ import annotations

import pytest
from django.db import connection

from core.rows import columns, from_row
from incidents.models import Event
from tests.factories import file_event

pytestmark = pytest.mark.django_db


def test_an_instance_from_a_row_in_any_column_order_equals_the_orms():
    filed = file_event()
    names = ("longitude", "reported_at", "id", "state", "category_id", "latitude", "code")
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT {columns(Event, names)} FROM "{Event._meta.db_table}" WHERE id = %s', [filed.pk])
        row = cursor.fetchone()
    built = from_row(Event, "default", names, row)
    stored = Event.objects.get(pk=filed.pk)
    for name in names:
        assert getattr(built, name) == getattr(stored, name), name
    assert built.reported_at.tzinfo is not None  # SQLite's text went through the backend's converter
    assert built.get_deferred_fields() >= {"title", "description"}
    assert built.title == stored.title  # a deferred column still loads when asked for
    assert not built._state.adding


def test_a_row_that_does_not_fit_its_column_names_is_refused():
    with pytest.raises(ValueError, match="2 values"):
        from_row(Event, "default", ("id", "code", "state"), (1, "x"))
    with pytest.raises(ValueError, match="no column"):
        from_row(Event, "default", ("id", "no_such_column"), (1, "x"))
