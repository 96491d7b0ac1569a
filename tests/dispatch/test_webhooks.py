"""Department systems: signed webhooks out (with retries) and the signed inbound API."""

import base64
import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from dispatch.models import DeliveryStatus, DepartmentEndpoint, WebhookDelivery
from incidents.models import Event, State
from operations import services
from operations.outbox import deliver_pending
from operations.webhooks import deliver_due, sign, sign_request, signature_valid
from tests.factories import dept, file_event, user

pytestmark = pytest.mark.django_db

SECRET = "test-secret-for-huanwei"


class Receiver:
    """A department system on 127.0.0.1 that fails the first `failures` requests, then accepts."""

    def __init__(self, failures: int):
        self.failures = failures
        self.requests: list[dict] = []
        self.accepted: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                entry = {"headers": dict(self.headers), "body": body}
                outer.requests.append(entry)
                if len(outer.requests) <= outer.failures:
                    self.send_response(500)
                    self.end_headers()
                    return
                delivery = self.headers["X-Citygov-Delivery"]
                if delivery not in {a["headers"]["X-Citygov-Delivery"] for a in outer.accepted}:
                    outer.accepted.append(entry)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _deliver_all(rounds: int = 6) -> None:
    deliver_pending()
    for _ in range(rounds):
        deliver_due()


@pytest.fixture
def endpoint(settings):
    from django.core.cache import cache

    # Signatures are single-use (remembered in the cache); a rolled-back test can reuse an event
    # code, and a signature made in the same second by an earlier test would count as a replay.
    cache.clear()
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0  # retry at once: the backoff itself is tested below
    return DepartmentEndpoint.objects.create(department=dept("990102001-huanwei"), secret=SECRET, url="")


def test_signature_scheme():
    body = b'{"a":1}'
    signature = sign(SECRET, "1700000000", body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert signature_valid(SECRET, "1700000000", body, signature)
    assert not signature_valid(SECRET, "1700000001", body, signature)
    assert not signature_valid("other", "1700000000", body, signature)


def test_a_receiver_failing_twice_gets_each_change_exactly_once(endpoint):
    with Receiver(failures=2) as receiver:
        endpoint.url = receiver.url
        endpoint.save()
        event = file_event(category="E0101")  # auto-dispatched to 南湖街道环卫所
        _deliver_all()
        services.event_urge(actor=user("sup_nanhu"), event_id=event.pk, note="请尽快")
        _deliver_all()
        services.event_return(actor=user("hd_nanhu_huanwei"), event_id=event.pk, reason="不属于环卫")
        _deliver_all()
    assert len(receiver.requests) == 5  # 2 failures + 3 changes
    assert [json.loads(a["body"])["action"] for a in receiver.accepted] == ["dispatch", "urge", "return"]
    for entry in receiver.requests:
        h = entry["headers"]
        assert signature_valid(SECRET, h["X-Citygov-Timestamp"], entry["body"], h["X-Citygov-Signature"])
        assert h["X-Citygov-Department"] == "990102001-huanwei"
    first = json.loads(receiver.accepted[0]["body"])
    assert first["event"]["code"] == event.code and first["event"]["lead_department"] == "990102001-huanwei"
    dispatch_delivery = WebhookDelivery.objects.get(message__topic="event.dispatch")
    assert (dispatch_delivery.status, dispatch_delivery.attempts, dispatch_delivery.last_status_code) == (
        DeliveryStatus.DELIVERED,
        3,
        204,
    )
    # Running the drains again sends nothing more.
    _deliver_all()
    assert len(receiver.requests) == 5


def test_failed_attempts_back_off(endpoint, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    with Receiver(failures=10) as receiver:
        endpoint.url = receiver.url
        endpoint.save()
        file_event(category="E0101")
        _deliver_all()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.PENDING, 1, 500)
    assert delivery.next_attempt_at > delivery.created_at
    assert len(receiver.requests) == 1


def test_an_unreachable_system_is_retried_then_given_up(endpoint, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    endpoint.url = "http://127.0.0.1:9/nothing-listens-here"
    endpoint.save()
    file_event(category="E0101")
    _deliver_all()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.FAILED, 3, None)
    assert "Error" in delivery.last_error


def test_departments_without_an_endpoint_get_no_webhook():
    file_event(category="E0101")
    deliver_pending()
    assert not WebhookDelivery.objects.exists()


def test_delivery_log_is_in_the_admin(login, endpoint):
    endpoint.url = "http://127.0.0.1:9/x"
    endpoint.save()
    file_event(category="E0101")
    deliver_pending()
    response = login("admin").get("/admin/dispatch/webhookdelivery/")
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


# --- inbound API


def _signed(
    client, path: str, payload: dict | None, *, department="990102001-huanwei", secret=SECRET, ts=None, method="post"
):
    body = json.dumps(payload or {}).encode() if method == "post" else b""
    ts = str(int(time.time()) if ts is None else ts)
    headers = {
        "HTTP_X_CITYGOV_DEPARTMENT": department,
        "HTTP_X_CITYGOV_TIMESTAMP": ts,
        "HTTP_X_CITYGOV_SIGNATURE": sign_request(secret, ts, method.upper(), path, body),
    }
    if method == "get":
        return client.get(path, **headers)
    return client.post(path, data=body, content_type="application/json", **headers)


def _photo_b64() -> str:
    buf = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(buf, "JPEG")
    return base64.b64encode(buf.getvalue()).decode()


def test_a_department_system_works_its_own_event(client, endpoint):
    event = file_event(category="E0101")
    url = f"/api/v1/department-system/events/{event.code}"
    inbox = _signed(client, "/api/v1/department-system/events", None, method="get")
    assert [e["code"] for e in inbox.json()] == [event.code]
    response = _signed(client, f"{url}/accept", {})
    assert response.status_code == 200, response.content
    assert response.json()["state"] == State.ACCEPTED
    response = _signed(client, f"{url}/extension", {"hours": 4, "reason": "等待配件"})
    assert response.status_code == 201, response.content
    response = _signed(
        client, f"{url}/result", {"note": "已清运", "photos": [{"filename": "a.jpg", "content_base64": _photo_b64()}]}
    )
    assert response.status_code == 200, response.content
    event = Event.objects.get(pk=event.pk)
    assert event.state == State.HANDLED
    rec = event.records.get(action="submit_result")
    assert rec.actor is None and rec.actor_role == "department_system"
    assert rec.actor_department.code == "990102001-huanwei"


def test_return_through_the_api_needs_a_reason(client, endpoint):
    event = file_event(category="E0101")
    response = _signed(client, f"/api/v1/department-system/events/{event.code}/return", {"reason": ""})
    assert response.status_code == 400 and "reason" in response.json()["errors"]
    response = _signed(client, f"/api/v1/department-system/events/{event.code}/return", {"reason": "非本所辖区"})
    assert response.status_code == 200
    assert Event.objects.get(pk=event.pk).state == State.REPORTED


@pytest.mark.parametrize(
    "tamper",
    [
        {"secret": "wrong-secret"},
        {"ts": 1_000_000_000},
        {"department": "no-such-department"},
    ],
    ids=["wrong-signature", "stale-timestamp", "unknown-department"],
)
def test_bad_signatures_are_refused_and_change_nothing(client, endpoint, tamper):
    event = file_event(category="E0101")
    before = (event.state, event.version)
    response = _signed(client, f"/api/v1/department-system/events/{event.code}/accept", {}, **tamper)
    assert response.status_code in (401, 403)
    assert response.json()["code"] in ("authentication_failed", "not_authenticated")
    event = Event.objects.get(pk=event.pk)
    assert (event.state, event.version) == before


def test_unsigned_requests_are_refused(client, endpoint):
    event = file_event(category="E0101")
    response = client.post(f"/api/v1/department-system/events/{event.code}/accept")
    assert response.status_code == 401


def test_a_department_system_cannot_touch_another_departments_event(client, endpoint):
    DepartmentEndpoint.objects.create(department=dept("990103001-chengguan"), secret="other-secret")
    event = file_event(category="E0101")  # led by 南湖街道环卫所
    response = _signed(
        client,
        f"/api/v1/department-system/events/{event.code}/accept",
        {},
        department="990103001-chengguan",
        secret="other-secret",
    )
    assert response.status_code == 404
    assert Event.objects.get(pk=event.pk).state == State.DISPATCHED
    inbox = _signed(
        client,
        "/api/v1/department-system/events",
        None,
        department="990103001-chengguan",
        secret="other-secret",
        method="get",
    )
    assert inbox.json() == []


def test_a_signature_is_bound_to_its_url_and_used_once(client, endpoint):
    a, b = file_event(category="E0101"), file_event(category="E0101", title="另一件")
    body, ts = b"{}", str(int(time.time()))
    signature = sign_request(SECRET, ts, "POST", f"/api/v1/department-system/events/{a.code}/accept", body)
    headers = {
        "HTTP_X_CITYGOV_DEPARTMENT": "990102001-huanwei",
        "HTTP_X_CITYGOV_TIMESTAMP": ts,
        "HTTP_X_CITYGOV_SIGNATURE": signature,
    }
    other_url = client.post(
        f"/api/v1/department-system/events/{b.code}/accept", data=body, content_type="application/json", **headers
    )
    assert other_url.status_code == 401
    first = client.post(
        f"/api/v1/department-system/events/{a.code}/accept", data=body, content_type="application/json", **headers
    )
    assert first.status_code == 200
    replay = client.post(
        f"/api/v1/department-system/events/{a.code}/accept", data=body, content_type="application/json", **headers
    )
    assert replay.status_code == 401
    assert Event.objects.get(pk=b.pk).state == State.DISPATCHED


def test_a_department_system_asks_for_a_suspension_before_the_deadline(client, endpoint):
    """#13 item 6: the docs said department systems may; now the signed API lets them."""
    from incidents.models import ApprovalRequest

    event = file_event(category="E0101")
    url = f"/api/v1/department-system/events/{event.code}"
    assert _signed(client, f"{url}/accept", {}).status_code == 200
    response = _signed(client, f"{url}/suspension", {"reason": "雨季无法施工", "until": "2027-03-31"})
    assert response.status_code == 201, response.content
    request = ApprovalRequest.objects.get(event=event, kind="suspension")
    assert request.requested_by is None and request.requested_by_department.code == "990102001-huanwei"
    assert request.data == {"until": "2027-03-31"}
    again = _signed(client, f"{url}/suspension", {"reason": "再来一次"})
    assert again.status_code == 409 and again.json()["code"] == "request_pending"


def test_a_department_system_cannot_suspend_an_event_it_does_not_lead(client, endpoint):
    other = file_event(category="E0101")
    services.event_redispatch(
        actor=user("op_nanhu"), event_id=other.pk, department=dept("990102001-chengguan"), reason="城管的事"
    )
    response = _signed(client, f"/api/v1/department-system/events/{other.code}/suspension", {"reason": "x"})
    assert response.status_code == 404
