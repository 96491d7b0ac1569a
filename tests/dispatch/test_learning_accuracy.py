"""首派准确率, 自动派发率 and 回退率 for the model, rules and people, from history, in the reader's scope."""

from __future__ import annotations

import pytest
from django.utils import timezone

from dispatch.models import RoutingRule
from incidents.permissions import SYSTEM
from operations import services
from tests.factories import dept, file_event, user

pytestmark = pytest.mark.django_db


def _history():
    """南湖: one by a rule (kept), one by a person (returned, then right), one by the model (kept)."""
    by_rule = file_event(category="E0101", title="垃圾")  # the demo's rules auto-dispatch E0101
    for rule in RoutingRule.objects.filter(category__code__in=["E0103", "E01"]):
        rule.is_active = False
        rule.save()
    by_person = file_event(category="E0103", title="路面脏")
    services.event_dispatch(actor=user("op_nanhu"), event_id=by_person.pk, department=dept("990102001-chengguan"))
    services.event_return(actor=user("hd_nanhu_chengguan"), event_id=by_person.pk, reason="不是我们的")
    services.event_dispatch(actor=user("op_nanhu"), event_id=by_person.pk, department=dept("990102001-huanwei"))
    by_model = file_event(category="E0103", title="马路没人扫")
    services.event_dispatch(
        actor=None,
        acting=SYSTEM,
        event_id=by_model.pk,
        department=dept("990102001-huanwei"),
        decided_by={"by": "model", "confidence": 0.97},
    )
    return by_rule, by_person, by_model


def _get(client, **params):
    today = timezone.localdate().isoformat()
    response = client.get("/api/v1/reports/dispatch-accuracy", {"start": today, "end": today, **params})
    assert response.status_code == 200, response.content
    return response.json()


def test_the_model_rules_and_people_side_by_side(login):
    by_rule, _by_person, _by_model = _history()
    assert by_rule.lead_department is not None
    data = _get(login("sup_nanhu"))
    total = data["total"]
    assert total["all"]["first_dispatches"] == 3
    assert total["rule"] == {"first_dispatches": 1, "accurate": 1, "returned": 0, "accuracy": 1.0, "return_rate": 0.0}
    assert total["person"]["first_dispatches"] == 1 and total["person"]["accuracy"] == 0.0
    assert total["person"]["return_rate"] == 1.0
    assert total["model"]["first_dispatches"] == 1 and total["model"]["accuracy"] == 1.0
    assert total["model_dispatch_rate"] == round(1 / 3, 4)
    assert [row["key"] for row in data["by_category"]] == ["E0101", "E0103"]
    assert data["by_category"][1]["all"]["first_dispatches"] == 2
    assert len(data["by_month"]) == 1 and len(data["definitions"]) == 3


def test_another_districts_reader_sees_none_of_it(login):
    _history()
    data = _get(login("op_hexi"))
    assert data["total"]["all"]["first_dispatches"] == 0 and data["by_category"] == []


def test_the_page_prints_the_formulas(login):
    _history()
    response = login("sup_nanhu").get("/reports/dispatch-accuracy/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.content.decode()
    assert "first dispatches neither returned nor redispatched" in body and "道路不洁" in body
    assert "Dispatch accuracy" in body
