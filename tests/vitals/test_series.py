"""promtool-style rule tests: scripted series through the API, with the expected warnings and events.

Each case posts a series at a 5-minute step and compares every warning's level, state, times and peak,
and the single event it files, with what the settled semantics say (issue #17).
"""

from __future__ import annotations

import random
from datetime import datetime

import pytest

from incidents.models import Event, Source, Urgency
from tests.vitals.conftest import NANHU_GRID1, NANHU_GRID1_B, T0, at, make_sensor, series
from vitals.models import VitalWarning, WarningRecord

pytestmark = pytest.mark.django_db


def warnings_of(client, **params) -> list[dict]:
    response = client.get("/api/v1/warnings", {**params, "limit": 1000})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def same_instant(text: str | None, minutes: float | None) -> bool:
    if text is None or minutes is None:
        return text is None and minutes is None
    return datetime.fromisoformat(text) == datetime.fromisoformat(at(minutes))


def test_the_issue_series_fires_rises_falls_and_resolves_with_one_event(client, depth, post_readings):
    make_sensor("wl-1", depth)
    answer = post_readings(series("wl-1", "0 4 6 8 12 15 25 35 35 20 10 4 2"))
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"accepted": 13, "duplicates": 0, "late": 0, "rejected": 0, "errors": []}

    [warning] = warnings_of(client, sensor="wl-1")
    # Pending at 6 (t=10, past blue 5); held 10 minutes at t=20 (12, yellow): fires there.
    assert warning["state"] == "resolved"
    assert same_instant(warning["started_at"], 10)
    assert same_instant(warning["fired_at"], 20)
    # 4 < recovery 5 (the default: the least severe threshold) at t=55; it keeps its last firing level.
    assert same_instant(warning["resolved_at"], 55)
    assert warning["level"] == "yellow"
    assert warning["peak_value"] == 35
    assert warning["indicator"] == "test-depth" and warning["sensor"] == "wl-1"

    event = Event.objects.get(code=warning["event"])
    assert event.source == Source.SENSOR
    assert event.category.code == "E0402"
    assert event.grid.code == "99010200100101"
    assert event.urgency == Urgency.CRITICAL  # it reached red
    records = list(event.records.order_by("seq"))
    assert records[0].action == "file"
    assert same_instant(records[0].data["warning"]["fired_at"], 20)
    assert records[0].data["warning"]["level"] == "yellow"
    actions = [r.action for r in records]
    # yellow → orange → red → orange → yellow on the same event, then the lift.
    assert actions.count("warning_change") == 3 and actions.count("warning_red") == 1
    assert actions[-1] == "warning_lift"
    assert Event.objects.filter(source=Source.SENSOR).count() == 1

    history = list(WarningRecord.objects.filter(warning_id=warning["id"]).values_list("action", "level"))
    assert history == [
        ("issue", "yellow"),
        ("file", "yellow"),
        ("change", "orange"),
        ("change", "red"),
        ("change", "orange"),
        ("change", "yellow"),
        ("lift", "yellow"),
    ]


def test_flapping_shorter_than_for_never_fires_and_files_nothing(client, depth, post_readings):
    make_sensor("wl-1", depth)
    # Past blue for 5 minutes at a time (for = 10): each pending warning clears before it fires.
    post_readings(series("wl-1", "0 8 2 9 3 12 1 4"))
    assert warnings_of(client, sensor="wl-1") == []
    assert not Event.objects.filter(source=Source.SENSOR).exists()


def test_a_pending_warning_is_listed_while_it_waits(client, depth, post_readings):
    make_sensor("wl-1", depth)
    post_readings(series("wl-1", "0 12"))
    [warning] = warnings_of(client, sensor="wl-1")
    assert warning["state"] == "pending" and warning["level"] == "yellow" and warning["fired_at"] is None
    assert warning["event"] is None


def test_hysteresis_keeps_firing_until_strictly_below_recovery(client, depth, post_readings):
    depth.recovery = 3
    depth.save()
    make_sensor("wl-1", depth)
    # 4 and 3 are below blue but not strictly below recovery 3: still firing, floored at blue.
    post_readings(series("wl-1", "12 12 12 4 3 2.9"))
    [warning] = warnings_of(client, sensor="wl-1")
    assert warning["state"] == "resolved"
    assert same_instant(warning["fired_at"], 10)
    assert same_instant(warning["resolved_at"], 25)
    assert warning["level"] == "blue"  # floored at the least severe level while 4 and 3 held it


def test_equal_to_a_threshold_is_past_it_and_for_zero_fires_at_once(client, depth, post_readings):
    depth.for_minutes = 0
    depth.save()
    make_sensor("wl-1", depth)
    post_readings(series("wl-1", "10 30"))
    [warning] = warnings_of(client, sensor="wl-1")
    assert warning["state"] == "firing" and warning["level"] == "red"
    assert same_instant(warning["started_at"], 0) and same_instant(warning["fired_at"], 0)


def test_below_indicator_warns_on_low_values(client, depth, post_readings):
    depth.direction = "below"
    depth.thresholds = {"blue": 0.3, "yellow": 0.25, "red": 0.15}  # water pressure, MPa; orange omitted
    depth.for_minutes = 5
    depth.save()
    make_sensor("wp-1", depth)
    post_readings(series("wp-1", "0.35 0.3 0.2 0.1 0.2 0.3 0.31"))
    [warning] = warnings_of(client, sensor="wp-1")
    assert same_instant(warning["started_at"], 5) and same_instant(warning["fired_at"], 10)
    assert warning["peak_value"] == 0.1
    # 0.3 is not strictly above recovery 0.3: still firing (blue); 0.31 resolves.
    assert same_instant(warning["resolved_at"], 30)
    assert warning["level"] == "blue"


def test_a_warning_that_fires_below_event_level_files_when_it_reaches_it(client, depth, post_readings):
    make_sensor("wl-1", depth)
    post_readings(series("wl-1", "6 6 6 6"))
    [warning] = warnings_of(client, sensor="wl-1")
    assert warning["state"] == "firing" and warning["level"] == "blue" and warning["event"] is None
    post_readings(series("wl-1", "11", start=20))
    [warning] = warnings_of(client, sensor="wl-1")
    assert warning["level"] == "yellow" and warning["event"] is not None
    event = Event.objects.get(code=warning["event"])
    assert same_instant(event.records.first().data["warning"]["fired_at"], 10)


def _outcome(client) -> list[tuple]:
    return [
        (w["sensor"], w["level"], w["state"], w["started_at"], w["fired_at"], w["resolved_at"], w["peak_value"])
        for w in warnings_of(client)
    ]


def test_replay_shuffled_or_in_batches_gives_the_same_warnings(client, depth, post_readings):
    make_sensor("wl-1", depth)
    make_sensor("wl-2", depth, NANHU_GRID1_B)
    rows = series("wl-1", "0 4 6 8 12 15 25 35 35 20 10 4 2 7 7 7 1") + series("wl-2", "9 9 9 1 31 31 31 31 0")
    post_readings(rows)
    expected = _outcome(client)
    assert len(expected) == 4  # two episodes per sensor

    VitalWarning.objects.all().delete()
    from vitals.models import Reading, Sensor

    Reading.objects.all().delete()
    Sensor.objects.update(last_at=None, last_value=None)
    shuffled = rows[:]
    random.Random(17).shuffle(shuffled)
    post_readings(shuffled)
    assert _outcome(client) == expected

    VitalWarning.objects.all().delete()
    Reading.objects.all().delete()
    Sensor.objects.update(last_at=None, last_value=None)
    ordered = sorted(rows, key=lambda r: r["at"])
    for start in range(0, len(ordered), 4):
        post_readings(ordered[start : start + 4])
    assert _outcome(client) == expected


def test_two_sensors_of_one_indicator_in_one_grid_share_one_event(client, depth, post_readings):
    make_sensor("wl-1", depth, NANHU_GRID1)
    make_sensor("wl-2", depth, NANHU_GRID1_B)
    post_readings(series("wl-1", "12 12 12") + series("wl-2", "15 15 15", start=5))
    found = warnings_of(client)
    assert len(found) == 2
    assert found[0]["event"] is not None and found[0]["event"] == found[1]["event"]
    event = Event.objects.get(code=found[0]["event"])
    assert [r.action for r in event.records.order_by("seq")].count("warning_join") == 1
    assert Event.objects.filter(source=Source.SENSOR).count() == 1


def test_first_copy_wins_duplicates_and_late_readings_are_counted(client, depth, post_readings):
    make_sensor("wl-1", depth)
    first = post_readings(
        [
            {"sensor": "wl-1", "value": 1, "at": at(0)},
            {"sensor": "wl-1", "value": 50, "at": at(0)},  # repeated (sensor, at): the first copy wins
            {"sensor": "wl-1", "value": 2, "at": at(10)},
        ]
    ).json()
    assert (first["accepted"], first["duplicates"], first["late"]) == (2, 1, 0)
    second = post_readings(
        [
            {"sensor": "wl-1", "value": 2, "at": at(10)},  # stored already
            {"sensor": "wl-1", "value": 99, "at": at(5)},  # older than the last evaluated (t=10): late
            {"sensor": "wl-1", "value": 3, "at": at(15)},
        ]
    ).json()
    assert (second["accepted"], second["duplicates"], second["late"], second["rejected"]) == (1, 1, 1, 0)
    assert warnings_of(client, sensor="wl-1") == []  # the late 99 was stored but not evaluated
    from vitals.models import Reading

    values = dict(Reading.objects.filter(sensor__code="wl-1").values_list("at", "value"))
    assert values[T0] == 1 and len(values) == 4


def test_bad_rows_are_rejected_one_by_one_and_the_rest_stored(client, depth, post_readings):
    make_sensor("wl-1", depth, NANHU_GRID1)
    answer = post_readings(
        [
            {"sensor": "wl-1", "value": 1, "at": at(0)},
            {"sensor": "nope", "value": 1, "at": at(0)},
            {"sensor": "wl-1", "value": "abc", "at": at(5)},
            {"sensor": "wl-1", "value": 1, "at": "2026-07-01T08:10:00"},
            {"sensor": "wl-1", "value": 1},
            {"sensor": "wl-1", "value": 2, "at": at(20)},
        ]
    )
    assert answer.status_code == 200
    body = answer.json()
    assert (body["accepted"], body["rejected"]) == (2, 4)
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(2, "sensor"), (3, "value"), (4, "at"), (5, "at")]


def test_csv_batches_are_accepted(client, depth, post_readings):
    make_sensor("wl-1", depth)
    text = "sensor,value,at\n" + "\n".join(f"wl-1,{v},{at(i * 5)}" for i, v in enumerate([12, 12, 12]))
    answer = post_readings(text, content_type="text/csv")
    assert answer.status_code == 200, answer.content
    assert answer.json()["accepted"] == 3
    [warning] = warnings_of(client, sensor="wl-1")
    assert warning["state"] == "firing"


def test_more_than_ten_thousand_rows_are_refused_whole(client, depth, post_readings):
    make_sensor("wl-1", depth)
    rows = [{"sensor": "wl-1", "value": 1, "at": f"2026-07-01T00:00:{i % 60:02d}.{i:06d}+08:00"} for i in range(10_001)]
    answer = post_readings(rows)
    assert answer.status_code == 413
    assert "10000" in answer.json()["message"]
    from vitals.models import Reading

    assert not Reading.objects.exists()


def test_replaying_a_wide_batch_counts_every_row_a_duplicate(client, depth, post_readings):
    """A batch for many sensors sent twice (a retry after a timeout): nothing is stored or evaluated twice."""
    from accounts.grid_index import locate_grid_id
    from accounts.models import OrgUnit
    from vitals.models import Reading, Sensor

    grid_id = locate_grid_id(*NANHU_GRID1)
    path = OrgUnit.objects.get(pk=grid_id).path
    sensors = [
        Sensor(code=f"wide-{i}", name=f"w{i}", indicator=depth, latitude=NANHU_GRID1[0], longitude=NANHU_GRID1[1],
               grid_id=grid_id, area_path=path)
        for i in range(1500)
    ]  # fmt: skip
    Sensor.objects.bulk_create(sensors)
    rows = [row for i in range(1500) for row in series(f"wide-{i}", "1 2")]
    assert post_readings(rows).json()["accepted"] == 3000
    again = post_readings(rows).json()
    assert (again["accepted"], again["duplicates"], again["late"]) == (0, 3000, 0)
    assert Reading.objects.filter(sensor__code__startswith="wide-").count() == 3000
