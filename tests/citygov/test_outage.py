"""Database, broker or cache down: every channel answers 503 with Retry-After, in its own format."""

import json
import time
from xml.etree import ElementTree as ET

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import InterfaceError, OperationalError, connections
from django.test import RequestFactory
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from dispatch.models import DepartmentEndpoint, RoutingRule
from interfaces import outage
from interfaces.web import events as event_views
from operations.webhooks import sign_request
from tests.factories import dept, file_event, point_in, user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def manual_dispatch():
    RoutingRule.objects.update(is_active=False)


@pytest.fixture
def database_down(monkeypatch):
    """From now on every query fails the way Django reports a lost server."""

    def start():
        def refused(*args, **kwargs):
            raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')

        monkeypatch.setattr(connections["default"], "cursor", refused)

    return start


def token_client(username: str) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user(username))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def assert_api_503(response) -> None:
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == str(outage.RETRY_AFTER_SECONDS)
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert body["message"] and body["errors"] == {}


# --- REST API


def test_api_read_while_the_database_is_down_is_503_json(database_down):
    client = token_client("op_nanhu")
    database_down()
    assert_api_503(client.get("/api/v1/events"))


def test_api_post_with_idempotency_key_while_the_database_is_down_is_503_json(database_down):
    """The Idempotency-Key transaction opens before DRF's own error handling: the middleware answers."""
    client = token_client("gw_nanhu1")
    lat, lon = point_in()
    database_down()
    response = client.post(
        "/api/v1/events",
        {"title": "断库", "category": "E0101", "latitude": lat, "longitude": lon},
        format="json",
        HTTP_IDEMPOTENCY_KEY="down-1",
    )
    assert_api_503(response)


def test_an_api_operation_losing_the_connection_midway_is_503_and_stores_no_key(monkeypatch):
    from interfaces.api import events as events_api
    from interfaces.models import IdempotencyKey

    event = file_event()
    client = token_client("op_nanhu")

    def lost(**kwargs):
        raise InterfaceError("connection already closed")

    monkeypatch.setattr(events_api.services, "event_escalate", lost)
    response = client.post(
        f"/api/v1/events/{event.code}/escalate", {"reason": "区里处理"}, format="json", HTTP_IDEMPOTENCY_KEY="esc-down"
    )
    assert_api_503(response)
    assert not IdempotencyKey.objects.filter(key="esc-down").exists()  # the retry does the work


def test_department_system_while_the_database_is_down_is_503_json(client, database_down):
    DepartmentEndpoint.objects.create(department=dept("990102001-huanwei"), secret="s", url="")
    event = file_event()
    path = f"/api/v1/department-system/events/{event.code}/accept"
    body, ts = json.dumps({}).encode(), str(int(time.time()))
    database_down()
    response = client.post(
        path,
        data=body,
        content_type="application/json",
        HTTP_X_CITYGOV_DEPARTMENT="990102001-huanwei",
        HTTP_X_CITYGOV_TIMESTAMP=ts,
        HTTP_X_CITYGOV_SIGNATURE=sign_request("s", ts, "POST", path, body),
    )
    assert_api_503(response)


def test_a_bug_in_the_api_is_still_a_500(monkeypatch):
    from interfaces.api import events as events_api

    event = file_event()
    client = token_client("op_nanhu")
    client.raise_request_exception = False

    def bug(**kwargs):
        raise ZeroDivisionError("a bug, not an outage")

    monkeypatch.setattr(events_api.services, "event_escalate", bug)
    response = client.post(f"/api/v1/events/{event.code}/escalate", {"reason": "x"}, format="json")
    assert response.status_code == 500
    assert "Retry-After" not in response


# --- Open311


def test_open311_while_the_database_is_down_answers_the_spec_error_list_in_json_and_xml(client, database_down):
    database_down()
    as_json = client.get("/open311/v2/requests.json")
    assert as_json.status_code == 503 and as_json["Retry-After"] == str(outage.RETRY_AFTER_SECONDS)
    assert as_json["Content-Type"].startswith("application/json")
    [error] = as_json.json()
    assert error["code"] == 503 and error["description"]

    as_xml = client.get("/open311/v2/requests.xml")
    assert as_xml.status_code == 503 and as_xml["Retry-After"] == str(outage.RETRY_AFTER_SECONDS)
    assert as_xml["Content-Type"].startswith("text/xml")
    root = ET.fromstring(as_xml.content)
    assert root.tag == "errors"
    assert root.find("error/code").text == "503" and root.find("error/description").text


def test_open311_post_while_the_database_is_down_is_503(client, database_down):
    lat, lon = point_in()
    database_down()
    response = client.post(
        "/open311/v2/requests.xml",
        {"api_key": "k", "service_code": "E0101", "lat": lat, "long": lon},
        HTTP_IDEMPOTENCY_KEY="o-down",
    )
    assert response.status_code == 503 and response["Retry-After"]
    assert ET.fromstring(response.content).find("error/code").text == "503"


# --- web pages


def test_a_page_while_the_database_is_down_is_the_friendly_503_in_chinese_by_default(login, database_down):
    client = login("gw_nanhu1")
    database_down()
    response = client.get("/mine/")
    assert response.status_code == 503
    assert response["Retry-After"] == str(outage.RETRY_AFTER_SECONDS)
    page = response.content.decode()
    assert '<html lang="zh-hans">' in page
    assert "系统暂时无法使用" in page
    assert "Traceback" not in page and "OperationalError" not in page


def test_the_friendly_503_speaks_english_when_asked(login, database_down):
    client = login("gw_nanhu1")
    database_down()
    response = client.get("/mine/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 503
    assert "Briefly unavailable" in response.content.decode()


def test_the_pages_json_calls_get_json_503(login, database_down):
    client = login("gw_nanhu1")
    database_down()
    response = client.get("/report/duplicates", {"category": "1"}, HTTP_ACCEPT="application/json")
    assert_api_503(response)


@pytest.mark.parametrize(
    "error",
    [BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused."), RedisConnectionError("refused")],
    ids=["broker", "cache"],
)
def test_broker_or_cache_unreachable_is_503_too(login, monkeypatch, error):
    client = login("gw_nanhu1")

    def unreachable(*args, **kwargs):
        raise error

    monkeypatch.setattr(event_views, "events_for_user", unreachable)
    response = client.get("/mine/")
    assert response.status_code == 503 and response["Retry-After"]


def test_the_database_lost_while_saving_the_session_after_the_view_is_503(login, monkeypatch, settings):
    """Outside any view (a middleware's response phase) handler500 still tells an outage from a bug."""
    client = login("gw_nanhu1")
    client.raise_request_exception = False
    settings.SESSION_SAVE_EVERY_REQUEST = True

    def lost(self, must_create=False):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(SessionStore, "save", lost)
    response = client.get("/mine/")
    assert response.status_code == 503
    assert response["Retry-After"] == str(outage.RETRY_AFTER_SECONDS)
    assert "系统暂时无法使用" in response.content.decode()


def test_handler500_leaves_bugs_as_500():
    request = RequestFactory().get("/mine/")
    try:
        raise KeyError("bug")
    except KeyError:
        response = outage.server_error(request)
    assert response.status_code == 500
