"""Statements one intake runs over the API (issue #20: ≤ 12 suggest-mode, ≤ 16 auto-dispatch).

Counted as a real request makes them: token authentication, a fresh user object (so the grants
are loaded, not remembered from the previous request), process caches warm, and real
transactions (the test is transactional): BEGIN and COMMIT, which Django does not run as
statements, and not a savepoint inside the test's own transaction, where the roll-up's day mark
of an earlier intake is still pending and the next one skips its INSERT (`dispatch.rollups.mark`),
one statement fewer than production sends.

Auto-dispatch (E0101 → the street's sanitation team), on PostgreSQL and SQLite alike, 9:
  1  SELECT token + user                      (interfaces.api.authentication)
  2  SELECT the user's grants and roles        (one UNION ALL: unit grants, department grants,
                                               memberships, the count of top units)
  3  SELECT nextval(…) / the SQLite high-water (the event's id, so code and anchor precede the INSERT)
  4  INSERT event                              (once, already dispatched: code, version 2, due time, anchor)
  5  INSERT the roll-up's day mark             (dispatch.rollups.mark, from the event's post_save)
  6  INSERT 3 clocks                           (dispatch stopped at once, overall, accept)
  7  INSERT 2 history records                  (file, dispatch)
  8  INSERT 2 outbox messages                  (event.file, event.dispatch)
  9  SELECT likely duplicates                  (one indexed query, nearest ten, no reload)
Suggest (E0601 → the street's housing office, police co-handling), 11: 1-5 as above, INSERT 2
clocks, INSERT 1 record, INSERT routing suggestion, INSERT its co-department, INSERT 1 outbox
message, the duplicate search.
A rule naming co-handlers for an auto-dispatch adds one INSERT of the event's co-departments.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import User
from dispatch.models import RoutingSuggestion, SlaClock
from incidents.history import verify_event_chain
from incidents.models import Event
from tests.factories import point_in

AUTO_MAX, SUGGEST_MAX = 16, 12
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT")


@pytest.fixture
def filer():
    client = APIClient()
    token = Token.objects.get_or_create(user=User.objects.get(username="op_nanhu"))[0]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def _post(client, category, lat, lon):
    return client.post(
        "/api/v1/events", {"title": "bench", "category": category, "latitude": lat, "longitude": lon}, format="json"
    )


@pytest.mark.parametrize(
    ("category", "most", "state"), [("E0101", AUTO_MAX, "dispatched"), ("E0601", SUGGEST_MAX, "reported")]
)
def test_one_intake_runs_at_most_its_statements(committed_city, filer, category, most, state):
    lat, lon = point_in("99010200100101")
    first = _post(filer, category, lat, lon)  # warms the process caches; a likely duplicate of the next
    assert first.status_code == 201, first.content
    with CaptureQueriesContext(connection) as ran:
        response = _post(filer, category, lat + 0.00001, lon)
    assert response.status_code == 201, response.content
    # SQLite's transaction_mode IMMEDIATE runs BEGIN IMMEDIATE and COMMIT as statements; psycopg's
    # BEGIN and COMMIT are not captured. The bound is on the work, alike on both.
    work = [q["sql"] for q in ran.captured_queries if not q["sql"].startswith(TRANSACTION_CONTROL)]
    assert len(work) <= most, "\n".join(work)
    body = response.json()
    # What was written in one INSERT per table is what is stored, and the answer shows it.
    event = Event.objects.get(code=body["code"])
    assert (body["state"], event.state) == (state, state)
    assert body["version"] == event.version == (2 if state == "dispatched" else 1)
    assert body["likely_duplicates"] == [first.json()["code"]]
    assert verify_event_chain(event.pk) is None
    assert event.due_at == min(c.due_at for c in SlaClock.objects.filter(event=event, stopped_at__isnull=True))
    updates = [q["sql"] for q in ran.captured_queries if q["sql"].startswith("UPDATE")]
    assert updates == [], "the new event is written once"
    inserts = [q["sql"].split('"')[1] for q in ran.captured_queries if q["sql"].startswith("INSERT")]
    assert inserts.count("incidents_event") == 1
    assert "dispatch_rollupmark" in inserts, "counted as production runs it: the day mark is written"
    assert not any(q["sql"].startswith("SAVEPOINT") for q in ran.captured_queries), "a real transaction"
    if state == "reported":
        suggestion = RoutingSuggestion.objects.get(event=event)
        assert [d.code for d in suggestion.co_departments.all()] != []
        assert body["lead_department"] is None
    else:
        assert body["lead_department"] == event.lead_department.code


@pytest.mark.django_db
def test_the_response_is_what_a_reload_shows(filer):
    """No scoped reload for the answer: it must equal what a GET of the event returns."""
    lat, lon = point_in("99010200100101")
    created = _post(filer, "E0101", lat, lon).json()
    shown = filer.get(f"/api/v1/events/{created['code']}").json()
    created.pop("likely_duplicates")
    shown.pop("clocks")
    assert created == shown
