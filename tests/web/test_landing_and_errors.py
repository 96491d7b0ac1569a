"""After each action a specific message and the next place of work; friendly 403/404/500 pages."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import path

from dispatch.models import RoutingRule
from incidents.models import Event
from tests.factories import dept, dispatched_event, file_event
from tests.web.test_pages import seen

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def manual_dispatch():
    RoutingRule.objects.update(is_active=False)


def _messages(client, url: str) -> str:
    return client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()


def test_dispatch_names_the_department_and_goes_back_to_the_console(login):
    event = file_event()
    op = login("op_nanhu")
    response = op.post(
        f"/events/{event.pk}/act/dispatch",
        {"dispatch-department": dept("990102001-huanwei").pk, **seen(event)},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 302 and response["Location"] == "/console/"
    page = _messages(op, "/console/")
    assert f"{event.code}：已派遣至南湖街道环卫所" in page or f"{event.code}: 已派遣至南湖街道环卫所" in page
    assert "操作成功" not in page


def test_accept_says_accepted_and_stays_on_the_event(login):
    event = dispatched_event()
    hd = login("hd_nanhu_huanwei")
    response = hd.post(f"/events/{event.pk}/act/accept", seen(event), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response["Location"] == f"/events/{event.pk}/"
    assert "已签收" in _messages(hd, f"/events/{event.pk}/")


def test_close_says_closed(login):
    from tests.factories import verified_event

    event = verified_event()
    op = login("op_nanhu")
    response = op.post(f"/events/{event.pk}/act/close", {"close-note": "", **seen(event)})
    assert response["Location"] == "/console/"
    assert "已结案" in _messages(op, "/console/")
    assert Event.objects.get(pk=event.pk).state == "closed"


def test_the_404_page_is_friendly_and_in_chinese(login):
    op = login("op_nanhu")
    with override_settings(DEBUG=False):
        response = op.get("/events/999999/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 404
    html = response.content.decode()
    assert "页面不存在" in html and "回到我的工作" in html and 'class="topbar"' in html


def test_the_403_page_says_what_is_missing(login):
    hd = login("hd_nanhu_huanwei")
    with override_settings(DEBUG=False):
        response = hd.get("/report/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    html = response.content.decode()
    assert "Not allowed" in html and "You hold no role that files events." in html


def _boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("boom", _boom)]


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_the_500_page_is_the_products_not_a_traceback():
    client = Client(raise_request_exception=False)
    response = client.get("/boom", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong" in html and "Traceback" not in html and "RuntimeError" not in html


def test_run_serve_turns_debug_off_by_default():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "run.py").read_text()
    assert 'env.setdefault("DEBUG", "0")' in text and '"--insecure"' in text


def test_the_favicon_exists(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")
    from django.contrib.staticfiles import finders

    assert finders.find("favicon.svg")


def test_an_approved_extension_says_the_new_deadline(login):
    from django.utils import timezone

    from incidents.models import ApprovalRequest
    from operations import services
    from tests.factories import accepted_event, user

    event = accepted_event()
    services.extension_request(actor=user("hd_nanhu_huanwei"), event_id=event.pk, hours=2, reason="等材料")
    req = ApprovalRequest.objects.get(event=event)
    sup = login("sup_nanhu")
    sup.post(f"/events/{event.pk}/decide/{req.pk}", {"approve": "1", "note": "", **seen(event)})
    due = timezone.localtime(Event.objects.get(pk=event.pk).due_at).strftime("%Y-%m-%d %H:%M")
    page = _messages(sup, f"/events/{event.pk}/")
    assert f"{event.code}: 延期已批准，下一个截止时间为 {due}。" in page
