"""The vital-signs API: who may write indicators, sensors and readings; lists scoped to the caller's units."""

from __future__ import annotations

import pytest

from incidents.models import Event, Source
from tests.vitals.conftest import NANHU_GRID1, XILING, make_integrator, make_sensor, series
from vitals.models import Indicator, Sensor

pytestmark = pytest.mark.django_db

NEW_INDICATOR = {
    "code": "test-gas",
    "name": "燃气浓度",
    "domain": "城市生命线",
    "group": "燃气",
    "unit": "%LEL",
    "direction": "above",
    "thresholds": {"yellow": 10, "orange": 25, "red": 50},
    "for_minutes": 0,
    "recovery": None,
    "nodata_minutes": 30,
    "category": "E0403",
    "event_level": "yellow",
}


def test_an_administrator_creates_an_indicator_and_everyone_signed_in_reads_it(client, persona):
    client.force_login(persona("admin"))
    created = client.post("/api/v1/indicators", NEW_INDICATOR, content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["recovery_value"] == 10  # the default: the least severe configured threshold
    client.force_login(persona("op_nanhu"))
    listed = client.get("/api/v1/indicators", {"limit": 100}).json()["results"]
    assert "test-gas" in {i["code"] for i in listed}
    assert (
        client.post("/api/v1/indicators", {**NEW_INDICATOR, "code": "x"}, content_type="application/json").status_code
        == 403
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"direction": "sideways"}, "direction"),
        ({"thresholds": {"purple": 3}}, "thresholds"),
        ({"thresholds": {"yellow": 30, "red": 10}}, "thresholds"),  # red must lie above yellow for `above`
        ({"recovery": 12}, "recovery"),  # above the least severe threshold
        ({"category": "E04"}, "category"),  # a major class files nothing
    ],
)
def test_a_bad_indicator_is_refused_naming_the_field(client, persona, change, field):
    client.force_login(persona("admin"))
    answer = client.post("/api/v1/indicators", {**NEW_INDICATOR, **change}, content_type="application/json")
    assert answer.status_code == 400
    assert field in answer.json()["errors"], answer.json()
    assert not Indicator.objects.filter(code="test-gas").exists()


def test_a_sensor_is_placed_in_its_grid_and_a_point_outside_the_city_is_refused(client, persona, depth):
    client.force_login(persona("admin"))
    body = {"code": "wl-9", "name": "南湖积水 9", "indicator": depth.code, "latitude": 30.01, "longitude": 120.02}
    created = client.post("/api/v1/sensors", body, content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["grid"] == "99010200100101"
    outside = client.post(
        "/api/v1/sensors", {**body, "code": "wl-10", "latitude": 31.5}, content_type="application/json"
    )
    assert outside.status_code == 400 and "location" in outside.json()["errors"]
    assert not Sensor.objects.filter(code="wl-10").exists()


def test_operators_see_only_the_sensors_and_warnings_of_their_units(client, persona, depth, post_readings):
    make_sensor("wl-nanhu", depth, NANHU_GRID1)
    make_sensor("wl-xiling", depth, XILING)
    post_readings(series("wl-nanhu", "12 12 12") + series("wl-xiling", "12 12 12"))
    seen = {}
    for username in ("op_nanhu", "op_jiangnan", "op_hexi", "sup_nanhu", "op_city", "hd_nanhu_huanwei"):
        client.force_login(persona(username))
        sensors = {s["code"] for s in client.get("/api/v1/sensors").json()["results"]}
        warnings = {w["sensor"] for w in client.get("/api/v1/warnings").json()["results"]}
        assert sensors == warnings
        seen[username] = sensors
    assert seen["op_nanhu"] == seen["op_jiangnan"] == seen["sup_nanhu"] == {"wl-nanhu"}
    assert seen["op_hexi"] == {"wl-xiling"}
    assert seen["op_city"] == {"wl-nanhu", "wl-xiling"}
    assert seen["hd_nanhu_huanwei"] == set()
    client.force_login(persona("op_hexi"))
    assert client.get("/api/v1/sensors/wl-nanhu").status_code == 404


def test_warnings_filter_by_state_and_level_and_refuse_unknown_values(client, persona, depth, post_readings):
    make_sensor("wl-1", depth)
    make_sensor("wl-2", depth, XILING)
    post_readings(series("wl-1", "12 12 12") + series("wl-2", "35"))
    client.force_login(persona("admin"))
    firing = client.get("/api/v1/warnings", {"state": "firing"}).json()["results"]
    assert [w["sensor"] for w in firing] == ["wl-1"]
    red = client.get("/api/v1/warnings", {"level": "red", "indicator": depth.code}).json()["results"]
    assert [w["sensor"] for w in red] == ["wl-2"] and red[0]["state"] == "pending"
    bad = client.get("/api/v1/warnings", {"state": "burning"})
    assert bad.status_code == 400 and "state" in bad.json()["errors"]


def test_readings_come_from_integrators_and_admins_only(client, persona, depth):
    make_sensor("wl-1", depth)
    rows = series("wl-1", "1")
    client.force_login(persona("op_nanhu"))
    assert client.post("/api/v1/readings", rows, content_type="application/json").status_code == 403
    client.force_login(persona("admin"))
    assert client.post("/api/v1/readings", rows, content_type="application/json").json()["accepted"] == 1


def test_an_integrator_token_posts_readings_for_its_own_units_sensors_only(client, depth):
    from rest_framework.authtoken.models import Token

    make_sensor("wl-nanhu", depth, NANHU_GRID1)
    make_sensor("wl-xiling", depth, XILING)
    platform = make_integrator("hexi_iot", unit="990103")
    token = Token.objects.create(user=platform)
    answer = client.post(
        "/api/v1/readings",
        series("wl-xiling", "1") + series("wl-nanhu", "1"),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["accepted"] == 1 and body["rejected"] == 1
    assert body["errors"] == [{"row": 2, "field": "sensor", "message": "unknown sensor 'wl-nanhu'"}]


def test_red_notifies_the_supervisor(client, depth, post_readings):
    from dispatch.models import Notification
    from operations.outbox import deliver_pending

    make_sensor("wl-1", depth)
    post_readings(series("wl-1", "12 12 12 35"))
    deliver_pending()
    event = Event.objects.get(source=Source.SENSOR)
    told = set(Notification.objects.filter(event=event, kind="warning_red").values_list("user__username", flat=True))
    assert "sup_nanhu" in told


def test_the_openapi_schema_documents_the_vitals_endpoints(client, persona):
    client.force_login(persona("admin"))
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").content.decode()
    for path in ("/api/v1/indicators", "/api/v1/sensors", "/api/v1/readings", "/api/v1/warnings"):
        assert path in schema
    assert "ReadingsAnswer" in schema
