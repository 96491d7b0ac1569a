"""A sweep over 100,000 open events of which 100 are due touches those 100 and no more."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import OrgUnit
from dispatch.models import SlaClock
from incidents.models import Category, Event
from operations.sweep import sweep

pytestmark = pytest.mark.django_db

OPEN, DUE = 100_000, 100


def _series(n: int) -> str:
    """A row source of n integers x = 1..n, in SQL both databases run."""
    if connection.vendor == "postgresql":
        return f"(SELECT generate_series(1, {int(n)}) AS x) AS s"
    return f"(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {int(n)}) SELECT x FROM c) AS s"


def _fill(now) -> None:
    """100,000 open events with one running clock each, 100 of them due: set-based SQL, seconds not minutes."""
    grid = OrgUnit.objects.get(code="99010200100101")
    street = OrgUnit.objects.get(code="990102001")
    category = Category.objects.get(code="E0101")
    ts = connection.ops.adapt_datetimefield_value
    started, far, past = now - timedelta(minutes=5), now + timedelta(days=2), now - timedelta(minutes=1)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO incidents_event (title, description, urgency, source, latitude, longitude, address, area_path,"
            " reporter_name, reporter_phone, state, version, self_handled, rework_count, return_count, reopen_count,"
            " urge_count, result_note, reported_at, updated_at, category_id, grid_id, owner_unit_id, light)"
            f" SELECT 'bulk', '', 1, 'grid_worker', 30.01, 120.01, '', %s, '', '', 'dispatched', 1, %s, 0, 0, 0, 0, '',"
            f" %s, %s, %s, %s, %s, 'green' FROM {_series(OPEN)}",
            [grid.path, False, ts(started), ts(started), category.pk, grid.pk, street.pk],
        )
        first_id = Event.objects.filter(title="bulk").order_by("id").values_list("id", flat=True).first()
        cursor.execute(
            "INSERT INTO dispatch_slaclock (event_id, step, working_time, limit_minutes, yellow_ratio,"
            " extension_minutes,"
            " paused_minutes, pauses, started_at, original_due_at, due_at, yellow_at, light, yellow_notified,"
            " red_notified, next_check_at)"
            " SELECT id, 'accept', %s, 60, 0.8, 0, 0, '[]', %s, %s, %s,"
            " CASE WHEN id < %s THEN %s ELSE %s END, 'green', %s, %s, CASE WHEN id < %s THEN %s ELSE %s END"
            " FROM incidents_event WHERE title = 'bulk'",
            [
                True,
                ts(started),
                ts(far),
                ts(far),
                first_id + DUE,
                ts(past),
                ts(far - timedelta(hours=1)),
                False,
                False,
                first_id + DUE,
                ts(past),
                ts(far - timedelta(hours=1)),
            ],
        )


def test_sweep_touches_only_due_clocks():
    now = timezone.now()
    _fill(now)
    assert Event.objects.count() >= OPEN and SlaClock.objects.filter(next_check_at__lte=now).count() == DUE
    with CaptureQueriesContext(connection) as queries:
        result = sweep(now)
    assert (result.checked, result.yellow, result.red) == (DUE, DUE, 0)
    clock_updates = [q for q in queries if q["sql"].startswith("UPDATE") and "slaclock" in q["sql"].lower()]
    assert len(clock_updates) == DUE
    # A bounded number of statements per due clock, none that scans all open events.
    assert len(queries) <= DUE * 8 + 2, len(queries)
    assert not any(
        "incidents_event" in q["sql"] and "LIMIT" not in q["sql"] and "WHERE" not in q["sql"] for q in queries
    )
    assert SlaClock.objects.filter(yellow_notified=True).count() == DUE
    assert Event.objects.filter(light="yellow").count() == DUE
    with CaptureQueriesContext(connection) as again:
        second = sweep(now)
    assert (second.checked, len(again)) == (0, 1)
