"""Open311 GeoReport v2: JSON and XML, errors as the spec lists them, keys, updates."""

import json
from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest
from django.utils import timezone

from accounts.models import OrgUnit
from dispatch.models import RoutingRule
from incidents.models import Event, Open311Key
from operations.services.keys import issue_open311_key
from tests.factories import file_event, point_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def key():
    RoutingRule.objects.update(is_active=False)
    return issue_open311_key(Open311Key(name="test 311 app", jurisdiction=OrgUnit.objects.get(code="990102")))


def post(client, key, fmt="json", **fields):
    lat, lon = point_in()
    data = {"api_key": key, "service_code": "E0101", "lat": lat, "long": lon, "description": "路边垃圾没人收",
            "first_name": "三", "last_name": "张", "phone": "13900001111", "jurisdiction_id": "990100"}  # fmt: skip
    data.update(fields)
    return client.post(f"/open311/v2/requests.{fmt}", {k: v for k, v in data.items() if v is not None})


def test_discovery_and_services_in_json_and_xml(client):
    d = client.get("/open311/v2/discovery.json").json()
    assert d["endpoints"][0]["formats"] == ["text/xml", "application/json"]
    services = client.get("/open311/v2/services.json").json()
    assert len(services) >= 40
    s = next(x for x in services if x["service_code"] == "E0101")
    assert (s["service_name"], s["group"], s["metadata"], s["type"]) == ("暴露垃圾", "市容环境", True, "realtime")
    root = ET.fromstring(client.get("/open311/v2/services.xml").content)
    assert root.tag == "services" and root.find("service/service_code") is not None
    assert (
        ET.fromstring(client.get("/open311/v2/discovery.xml").content).find("endpoints/endpoint/formats/format").text
        == "text/xml"
    )


def test_service_definition_lists_attributes(client):
    definition = client.get("/open311/v2/services/E0101.json").json()
    urgency = next(a for a in definition["attributes"] if a["code"] == "urgency")
    assert urgency["datatype"] == "singlevaluelist" and [v["key"] for v in urgency["values"]] == ["1", "2", "3"]
    xml = ET.fromstring(client.get("/open311/v2/services/E0101.xml").content)
    assert xml.tag == "service_definition" and xml.find("attributes/attribute/values/value/key").text == "1"
    missing = client.get("/open311/v2/services/NOPE.json")
    assert missing.status_code == 404 and missing.json() == [{"code": 404, "description": "Unknown service_code NOPE."}]


def test_post_then_read_back(client, key):
    r = post(client, key, **{"attribute[urgency]": "2", "attribute[landmark]": "公交站旁"})
    assert r.status_code == 200, r.content
    [created] = r.json()
    event = Event.objects.get(code=created["service_request_id"])
    assert (event.source, event.urgency, event.reporter_name) == ("open311", 2, "张 三")
    assert "公交站旁" in event.description
    [read] = client.get(f"/open311/v2/requests/{event.code}.json").json()
    assert read["status"] == "open" and read["service_code"] == "E0101"
    assert read["requested_datetime"].endswith("Z") and read["expected_datetime"].endswith("Z")
    assert "13900001111" not in json.dumps(read)  # no personal data in public reads
    listed = client.get("/open311/v2/requests.json", {"service_code": "E0101", "status": "open"}).json()
    assert event.code in [x["service_request_id"] for x in listed]
    xml = ET.fromstring(client.get(f"/open311/v2/requests/{event.code}.xml").content)
    assert xml.tag == "service_requests" and xml.find("request/status").text == "open"
    token = client.get(f"/open311/v2/tokens/{event.code}.json").json()
    assert token == [{"service_request_id": event.code, "token": event.code}]


@pytest.mark.parametrize(
    ("fields", "status", "fragment"),
    [
        ({"api_key": "wrong"}, 403, "api_key"),
        ({"service_code": ""}, 400, "service_code"),
        ({"service_code": "NOPE"}, 400, "category"),
        ({"lat": None, "long": None, "address_string": "某某路1号"}, 400, "address_string"),
        ({"lat": None, "long": None}, 400, "lat and long"),
        ({"lat": 10, "long": 10}, 400, "location"),
        ({"description": "x" * 4001}, 400, "4000"),
        ({"attribute[urgency]": "7"}, 400, "urgency"),
    ],
)
def test_post_errors_follow_the_spec(client, key, fields, status, fragment):
    before = Event.objects.count()
    r = post(client, key, **fields)
    assert r.status_code == status
    [error] = r.json()
    assert error["code"] == status and fragment in error["description"]
    assert Event.objects.count() == before


def test_revoked_keys_and_other_jurisdictions_are_refused(client, key):
    r = post(client, key, lat=point_in("99010300100101")[0], long=point_in("99010300100101")[1])
    assert r.status_code == 403
    Open311Key.objects.update(revoked_at=timezone.now())
    assert post(client, key).status_code == 403


def test_xml_errors(client):
    r = client.post("/open311/v2/requests.xml", {"api_key": "nope"})
    assert r.status_code == 403
    root = ET.fromstring(r.content)
    assert root.tag == "errors" and root.find("error/code").text == "403"


def test_staff_reports_are_not_public(client, key):
    internal = file_event(description="内部描述 13800001111")
    assert client.get(f"/open311/v2/requests/{internal.code}.json").status_code == 404
    assert internal.code not in json.dumps(client.get("/open311/v2/requests.json").json())


def test_default_window_and_filters(client, key):
    old = Event.objects.get(code=post(client, key).json()[0]["service_request_id"])
    Event.objects.filter(pk=old.pk).update(reported_at=timezone.now() - timedelta(days=120))
    recent = Event.objects.get(code=post(client, key, description="另一条").json()[0]["service_request_id"])
    codes = [r["service_request_id"] for r in client.get("/open311/v2/requests.json").json()]
    assert recent.code in codes and old.code not in codes
    assert client.get("/open311/v2/requests.json", {"status": "pending"}).status_code == 400
    assert client.get("/open311/v2/requests.json", {"start_date": "yesterday"}).status_code == 400
    by_id = client.get("/open311/v2/requests.json", {"service_request_id": f"{old.code},{recent.code}"}).json()
    assert {r["service_request_id"] for r in by_id} == {old.code, recent.code}


def test_idempotency_key_creates_one_event(client, key):
    a = (
        post(client, key, HTTP_IDEMPOTENCY_KEY="abc")
        if False
        else client.post("/open311/v2/requests.json", _body(key), HTTP_IDEMPOTENCY_KEY="abc")
    )
    b = client.post("/open311/v2/requests.json", _body(key), HTTP_IDEMPOTENCY_KEY="abc")
    assert a.status_code == b.status_code == 200
    assert a.json() == b.json()
    assert Event.objects.filter(source="open311").count() == 1
    c = client.post("/open311/v2/requests.json", {**_body(key), "description": "another"}, HTTP_IDEMPOTENCY_KEY="abc")
    assert c.status_code == 422


def _body(key):
    lat, lon = point_in()
    return {"api_key": key, "service_code": "E0101", "lat": lat, "long": lon, "description": "同一次提交"}


def test_request_updates_follow_progress(client, key):
    from operations import services
    from tests.factories import dept, user

    code = post(client, key).json()[0]["service_request_id"]
    event = Event.objects.get(code=code)
    services.event_dispatch(actor=user("op_nanhu"), event_id=event.pk, department=dept("990102001-huanwei"))
    updates = client.get("/open311/v2/servicerequestupdates.json").json()
    mine = [u for u in updates if u["service_request_id"] == code]
    assert [u["status"] for u in mine] == ["action_scheduled"]
    assert mine[0]["update_id"] == f"{event.pk}_2"
    xml = ET.fromstring(client.get("/open311/v2/servicerequestupdates.xml").content)
    assert xml.tag == "service_request_updates" and xml.find("request_update/status") is not None


def test_unknown_format_is_404(client):
    r = client.get("/open311/v2/services.yaml")
    assert r.status_code == 404 and r.json()[0]["code"] == 404


def test_admins_issue_and_revoke_keys(login):
    admin = login("admin")
    unit = OrgUnit.objects.get(code="990100")
    r = admin.post("/admin/incidents/open311key/add/", {"name": "hotline app", "jurisdiction": unit.pk}, follow=True)
    assert r.status_code == 200
    message = " ".join(str(m) for m in r.context["messages"])
    issued = Open311Key.objects.get(name="hotline app")
    assert issued.prefix in message
    admin.post("/admin/incidents/open311key/", {"action": "revoke", "_selected_action": [issued.pk]})
    assert Open311Key.objects.get(pk=issued.pk).revoked_at is not None


def test_an_address_naming_a_grid_is_placed_in_it(client, key):
    r = post(client, key, lat=None, long=None, address_string="南湖一村社区第2网格 菜场门口")
    assert r.status_code == 200, r.content
    event = Event.objects.get(code=r.json()[0]["service_request_id"])
    assert event.grid.code == "99010200100102"
    assert event.address == "南湖一村社区第2网格 菜场门口"


def test_public_updates_and_notes_never_show_internal_reasons(client, key):
    """servicerequestupdates and status_notes carry the result, the closing note or a fixed note per state."""
    from operations import services
    from tests.factories import dept, png, user

    code = post(client, key).json()[0]["service_request_id"]
    event = Event.objects.get(code=code)
    op, handler = user("op_nanhu"), user("hd_nanhu_huanwei")
    services.event_dispatch(actor=op, event_id=event.pk, department=dept("990102001-huanwei"))
    services.event_return(actor=handler, event_id=event.pk, reason="内部：派错了，应归城管")
    services.event_dispatch(actor=op, event_id=event.pk, department=dept("990102001-huanwei"))
    services.event_accept(actor=handler, event_id=event.pk)
    services.event_submit_result(actor=handler, event_id=event.pk, note="已清理完毕", photos=[png()])
    services.event_verify(actor=user("gw_nanhu1"), event_id=event.pk, passed=True)
    services.event_close(actor=op, event_id=event.pk, note="感谢您的反映")
    services.event_reopen(actor=op, event_id=event.pk, reason="回访：张三不满意，家里电话 13900001111")

    response = client.get("/open311/v2/servicerequestupdates.json", HTTP_ACCEPT_LANGUAGE="en")
    mine = [u for u in response.json() if u["service_request_id"] == code]
    descriptions = [u["description"] for u in mine]
    assert [u["status"] for u in mine] == ["action_scheduled", "open", "action_scheduled", "in_progress",
                                           "in_progress", "fixed", "closed", "open"]  # fmt: skip
    assert descriptions[4] == "已清理完毕" and descriptions[6] == "感谢您的反映"
    assert descriptions[1] == descriptions[7] == "Received; waiting to be assigned to the responsible department."
    assert all(descriptions) and all(u["media_url"] == "" for u in mine)
    xml = client.get("/open311/v2/servicerequestupdates.xml").content.decode()
    for body in (response.content.decode(), xml):
        for secret in ("派错了", "应归城管", "不满意", "13900001111"):
            assert secret not in body

    [read] = client.get(f"/open311/v2/requests/{code}.json", HTTP_ACCEPT_LANGUAGE="en").json()
    assert read["status_notes"] == "Received; waiting to be assigned to the responsible department."
    assert read["media_url"] == ""
    # In the city's language by default.
    [read] = client.get(f"/open311/v2/requests/{code}.json").json()
    assert read["status_notes"] == "已受理，等待派遣至责任部门。"
