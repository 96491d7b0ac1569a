"""REST API v1: scoped reads, lifecycle operations, JSON errors, idempotency."""

import base64
import io

import pytest
from PIL import Image
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from dispatch.models import RoutingRule
from incidents.models import Event, State
from tests.factories import file_event, point_in, user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def manual_dispatch():
    RoutingRule.objects.update(is_active=False)


def api(username: str) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user(username))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def photo() -> dict:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), "red").save(buf, "PNG")
    return {"filename": "p.png", "content_base64": base64.b64encode(buf.getvalue()).decode()}


def test_the_closed_loop_through_the_api():
    lat, lon = point_in()
    response = api("gw_nanhu1").post(
        "/api/v1/events",
        {
            "title": "垃圾",
            "category": "E0101",
            "latitude": lat,
            "longitude": lon,
            "source": "grid_worker",
            "photos": [photo()],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    code = response.json()["code"]
    steps = [
        ("op_nanhu", "dispatch", {"department": "990102001-huanwei"}),
        ("hd_nanhu_huanwei", "accept", {}),
        ("hd_nanhu_huanwei", "submit-result", {"note": "done", "photos": [photo()]}),
        ("gw_nanhu1", "verify", {"passed": True}),
        ("op_nanhu", "close", {}),
    ]
    for username, operation, body in steps:
        r = api(username).post(f"/api/v1/events/{code}/{operation}", body, format="json")
        assert r.status_code == 200, (operation, r.content)
    assert r.json()["state"] == State.CLOSED
    history = api("op_nanhu").get(f"/api/v1/events/{code}/history").json()
    assert [h["action"] for h in history] == ["file", "dispatch", "accept", "submit_result", "verify_pass", "close"]


def test_lists_are_scoped_and_paginated_by_cursor():
    ours = [file_event() for _ in range(3)]
    file_event(grid="99010300100101", reporter="gw_xiling1")
    client = api("op_nanhu")
    page = client.get("/api/v1/events", {"page_size": 2}).json()
    assert len(page["results"]) == 2 and page["next"]
    rest = client.get(page["next"]).json()
    codes = {e["code"] for e in page["results"] + rest["results"]}
    assert codes == {e.code for e in ours}
    assert api("op_hexi").get("/api/v1/events").json()["results"][0]["grid"].startswith("990103")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"state": "bogus"}, "state"),
        ({"urgency": "9"}, "urgency"),
        ({"within": "nope"}, "within"),
        ({"reported_from": "x"}, "reported_from"),
        ({"category": "ZZZ"}, "category"),
        ({"source": "carrier-pigeon"}, "source"),
    ],
)
def test_bad_filters_are_explained(params, field):
    r = api("op_nanhu").get("/api/v1/events", params)
    assert r.status_code == 400
    assert r.json()["code"] == "invalid" and field in r.json()["errors"]


def test_other_districts_get_404_and_errors_are_json():
    event = file_event()
    r = api("op_hexi").get(f"/api/v1/events/{event.code}")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = api("op_hexi").post(f"/api/v1/events/{event.code}/escalate", {"reason": "x"}, format="json")
    assert r.status_code == 404
    r = api("sup_nanhu").post(f"/api/v1/events/{event.code}/close", {}, format="json")
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = api("op_nanhu").post(f"/api/v1/events/{event.code}/close", {}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    r = api("op_nanhu").post(f"/api/v1/events/{event.code}/escalate", {"reason": ""}, format="json")
    assert r.status_code == 400 and "reason" in r.json()["errors"]
    r = APIClient().get("/api/v1/events")
    assert r.status_code == 401


def test_stale_version_is_409():
    event = file_event()
    r = api("op_nanhu").post(
        f"/api/v1/events/{event.code}/escalate", {"reason": "x", "expected_version": event.version + 5}, format="json"
    )
    assert r.status_code == 409 and r.json()["code"] == "stale_version"


def test_idempotency_key_replays_and_refuses_a_different_body():
    lat, lon = point_in()
    body = {"title": "垃圾", "category": "E0101", "latitude": lat, "longitude": lon}
    client = api("gw_nanhu1")
    first = client.post("/api/v1/events", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post("/api/v1/events", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json()["code"] == first.json()["code"]
    assert again["Idempotent-Replayed"] == "true"
    assert Event.objects.filter(title="垃圾").count() == 1
    other = client.post("/api/v1/events", {**body, "title": "别的"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 422 and other.json()["code"] == "idempotency_mismatch"
    # Keys are per caller: another user may use the same key.
    mine = api("gw_nanhu1_01").post("/api/v1/events", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert mine.status_code == 201 and mine.json()["code"] != first.json()["code"]


def test_a_duplicate_still_in_flight_gets_409():
    from interfaces.models import IdempotencyKey

    client = api("gw_nanhu1")
    lat, lon = point_in()
    body = {"title": "x", "category": "E0101", "latitude": lat, "longitude": lon}
    import hashlib
    import json

    raw = json.dumps(body).encode()
    IdempotencyKey.objects.create(
        scope=f"user:{user('gw_nanhu1').pk}",
        key="busy",
        fingerprint=hashlib.sha256(b"POST/api/v1/events\n" + raw).hexdigest(),
    )
    r = client.post("/api/v1/events", raw, content_type="application/json", HTTP_IDEMPOTENCY_KEY="busy")
    assert r.status_code == 409 and r.json()["code"] == "idempotency_in_flight"


def test_a_crash_before_the_response_is_stored_keeps_neither_the_event_nor_the_key(monkeypatch):
    """Key, event and stored response commit together: a retry after a crash files exactly one event."""
    from pathlib import Path

    from django.conf import settings
    from django.db import OperationalError

    from interfaces import idempotency
    from interfaces.models import IdempotencyKey

    lat, lon = point_in()
    body = {"title": "崩溃重试", "category": "E0101", "latitude": lat, "longitude": lon, "photos": [photo()]}
    client = api("gw_nanhu1")
    client.raise_request_exception = False
    real_finish = idempotency.finish
    stored_before = {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()}

    def crash(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(idempotency, "finish", crash)
    lost = client.post("/api/v1/events", body, format="json", HTTP_IDEMPOTENCY_KEY="crash-1")
    # The connection was lost: "try again later" (503), not a bug (500).
    assert lost.status_code == 503 and lost["Retry-After"]
    assert not Event.objects.filter(title="崩溃重试").exists()
    assert not IdempotencyKey.objects.filter(key="crash-1").exists()  # not stuck "in flight"
    stored_after = {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()}
    assert stored_after == stored_before  # the photo went with the rolled-back event
    monkeypatch.setattr(idempotency, "finish", real_finish)
    retry = client.post("/api/v1/events", body, format="json", HTTP_IDEMPOTENCY_KEY="crash-1")
    assert retry.status_code == 201
    again = client.post("/api/v1/events", body, format="json", HTTP_IDEMPOTENCY_KEY="crash-1")
    assert again["Idempotent-Replayed"] == "true"
    assert Event.objects.filter(title="崩溃重试").count() == 1


def test_transitions_are_idempotent_too():
    event = file_event()
    client = api("op_nanhu")
    body = {"department": "990102001-huanwei"}
    a = client.post(f"/api/v1/events/{event.code}/dispatch", body, format="json", HTTP_IDEMPOTENCY_KEY="d1")
    b = client.post(f"/api/v1/events/{event.code}/dispatch", body, format="json", HTTP_IDEMPOTENCY_KEY="d1")
    assert a.status_code == b.status_code == 200
    assert Event.objects.get(pk=event.pk).records.filter(action="dispatch").count() == 1


def test_reference_data_and_requests():
    client = api("hd_nanhu_huanwei")
    assert len(client.get("/api/v1/categories").json()["results"]) > 60
    units = client.get("/api/v1/org-units", {"within": "990102", "tier": 3}).json()["results"]
    assert [u["code"] for u in units] == ["990102001", "990102002"]
    depts = client.get("/api/v1/departments", {"org_unit": "990102"}).json()["results"]
    assert len(depts) == 8


def test_schema_and_docs_are_served_without_cdn(client):
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200
    docs = client.get("/api/v1/docs/").content.decode()
    assert "cdn" not in docs.lower() and "/static/drf_spectacular_sidecar/" in docs


def _merged_pair():
    """A: dispatched to 南湖 城管 in grid 01. B: filed in the next grid (02), merged into A."""
    from operations import services
    from tests.factories import dept

    target = file_event(grid="99010200100101", title="垃圾堆放")
    services.event_dispatch(actor=user("op_nanhu"), event_id=target.pk, department=dept("990102001-chengguan"))
    duplicate = file_event(grid="99010200100102", title="同一堆垃圾")
    services.event_merge(actor=user("op_nanhu"), event_id=duplicate.pk, into_event_id=target.pk, reason="重复")
    return Event.objects.get(pk=target.pk), Event.objects.get(pk=duplicate.pk)


def _record(username, event, action):
    response = api(username).get(f"/api/v1/events/{event.code}/history")
    assert response.status_code == 200
    [record] = [r for r in response.json() if r["action"] == action]
    return record, response.content.decode()


def test_history_names_another_event_only_to_those_who_may_see_it():
    target, duplicate = _merged_pair()
    # The grid worker of grid 01 and the department that has A never saw B: its code stays hidden.
    for username in ("gw_nanhu1_01", "hd_nanhu_chengguan"):
        record, body = _record(username, target, "absorb")
        assert record["data"] == {"duplicate": None}, username
        assert duplicate.code not in body, username
    # Someone who sees both gets both codes, on both sides of the merge.
    assert _record("op_nanhu", target, "absorb")[0]["data"] == {"duplicate": duplicate.code}
    assert _record("op_nanhu", duplicate, "merge")[0]["data"] == {"into": target.code}
    # The stored record is untouched: the hash chain still verifies.
    from incidents.history import verify_event_chain

    assert verify_event_chain(target.pk) is None and verify_event_chain(duplicate.pk) is None


# --- #13 item 1: an operation that takes the event out of the caller's view still answers its outcome


def test_a_department_that_returns_an_event_gets_200_with_the_outcome():
    from tests.factories import dispatched_event

    event = dispatched_event()
    client = api("hd_nanhu_huanwei")
    response = client.post(
        f"/api/v1/events/{event.code}/return", {"reason": "不是环卫的事"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body == {
        "code": event.code,
        "state": State.REPORTED,
        "version": event.version + 1,
        "visible": False,
        "message": "Returned; waiting for the operations centre to dispatch it again.",
    }
    # The caller really cannot see it any more; a retry is a 404, not a second return.
    assert client.get(f"/api/v1/events/{event.code}").status_code == 404
    assert Event.objects.get(pk=event.pk).records.filter(action="return").count() == 1


def test_an_operation_that_keeps_the_event_in_view_answers_the_event():
    event = file_event()
    response = api("op_nanhu").post(
        f"/api/v1/events/{event.code}/escalate", {"reason": "街道处置不了", "expected_version": 1}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["code"] == event.code and "visible" not in response.json()
    assert "title" in response.json()


def test_the_schema_describes_both_outcomes():
    schema = APIClient().get("/api/v1/schema/", {"format": "json"}).json()
    result = schema["components"]["schemas"]["OperationResult"]
    refs = {item["$ref"].rsplit("/", 1)[-1] for item in result["oneOf"]}
    assert refs == {"Event", "LostSightOutcome"}
