"""On PostgreSQL the connection binds parameters on the server and prepares what it runs often (#20).

The settings say so (tests/citygov/test_settings.py); this checks that the test database's own
connection, configured as production's, really keeps intake's statements prepared, so the server
parses and plans them once per connection.
"""

import pytest
from django.db import connection

from incidents.models import Event
from tests.factories import file_event

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="server-side binding is PostgreSQL's"),
]


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_intake_statements_are_prepared_after_their_fifth_use():
    assert connection.connection.prepare_threshold == 5
    insert = 'INSERT INTO "incidents_event"'
    events = [file_event() for _ in range(4)]
    assert not any(s.startswith(insert) for s in _prepared())
    events += [file_event() for _ in range(3)]
    prepared = [s for s in _prepared() if s.startswith(insert)]
    assert len(prepared) == 1, prepared
    assert "$1" in prepared[0]  # the values travel apart from the text
    assert Event.objects.filter(pk__in=[e.pk for e in events]).count() == 7
    # the same statement, prepared once, serves the next intake
    file_event()
    assert [s for s in _prepared() if s.startswith(insert)] == prepared
