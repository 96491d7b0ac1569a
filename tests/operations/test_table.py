"""The operations table is the one source: channels, forms, docs and the graph follow it."""

import inspect

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from citygov import api_urls
from incidents.models import Event, State
from interfaces.api.department import DEPARTMENT_VIEWS
from interfaces.api.operations import OPERATION_VIEWS
from interfaces.web.action_forms import action_form
from operations import table
from operations.table import OPERATIONS
from tests.factories import accepted_event, dispatched_event, file_event, handled_event, user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def manual_dispatch():
    from dispatch.models import RoutingRule

    RoutingRule.objects.update(is_active=False)


def test_every_operation_calls_a_service_that_takes_its_inputs():
    for op in OPERATIONS:
        params = inspect.signature(table.service_of(op)).parameters
        assert {"actor", "event_id", "expected_version"} <= set(params), op.name
        for field in op.inputs.fields:
            assert field.service_arg in params, (op.name, field.name)
        if table.DEPARTMENT in op.channels:
            assert "acting" in params and op.department_path, op.name
        if op.reason:
            assert op.reason in {f.name for f in op.inputs.fields}, op.name


def test_every_transition_named_in_the_table_exists_and_the_states_are_real():
    for op in OPERATIONS:
        assert op.sources, op.name
        assert set(op.sources) <= set(State.values), op.name
        if op.transition:
            assert hasattr(Event, op.transition), op.name


def test_the_channels_offer_exactly_what_the_table_says():
    assert set(OPERATION_VIEWS) == {op.name for op in table.offered(table.API)}
    assert set(DEPARTMENT_VIEWS) == {op.department_path for op in table.offered(table.DEPARTMENT)}
    routes = {p.name for p in api_urls.urlpatterns if getattr(p, "name", None)}
    for op in table.offered(table.API):
        assert f"event-{op.name}" in routes
    for op in table.offered(table.WEB):
        assert reverse("event-action", args=[1, op.name]).endswith(f"/act/{op.name}")


def test_the_schema_has_one_endpoint_per_api_operation():
    schema = APIClient().get("/api/v1/schema/", {"format": "json"}).json()
    for op in table.offered(table.API):
        assert f"/api/v1/events/{{code}}/{op.name}" in schema["paths"], op.name
    for op in table.offered(table.DEPARTMENT):
        assert f"/api/v1/department-system/events/{{code}}/{op.department_path}" in schema["paths"], op.name


@pytest.mark.parametrize(
    ("make", "username", "expected"),
    [
        (file_event, "op_nanhu", {"dispatch", "escalate", "invalidation-request"}),
        (file_event, "sup_nanhu", {"urge", "invalidate"}),
        (file_event, "op_hexi", set()),
        (dispatched_event, "hd_nanhu_huanwei", {"accept", "return", "extension-request", "note"}),
        (
            accepted_event,
            "hd_nanhu_huanwei",
            {"return", "extension-request", "suspension-request", "submit-result", "note"},
        ),
        (accepted_event, "op_nanhu", {"redispatch", "invalidation-request"}),
        (handled_event, "gw_nanhu1", {"verify"}),
        (handled_event, "hd_nanhu_huanwei", set()),
    ],
)
def test_available_actions_follow_state_and_who(make, username, expected):
    event = make()
    assert {op.name for op in table.available_actions(user(username), event)} == expected


def test_a_new_entry_is_a_new_action_in_every_channel(monkeypatch):
    """What docs/ARCHITECTURE.md promises: one entry (plus its service) and the channels follow."""
    from incidents.permissions import SUPERVISOR

    flag = table.Operation(
        "flag",
        "event_urge",
        "Flag",
        SUPERVISOR,
        table.COMMENT,
        states=(State.REPORTED,),
        reason="note",
    )
    monkeypatch.setattr(table, "OPERATIONS", (*OPERATIONS, flag))
    monkeypatch.setitem(table.BY_NAME, "flag", flag)
    event = file_event()
    assert "flag" in {op.name for op in table.available_actions(user("sup_nanhu"), event)}
    form = action_form(flag, user("sup_nanhu"), event)
    assert list(form.fields) == ["note"] and form.prefix == "flag"
    from django.test import Client

    client = Client()
    client.force_login(user("sup_nanhu"))
    response = client.post(f"/events/{event.pk}/act/flag", {"flag-note": "看一下", "expected_version": event.version})
    assert response.status_code == 302
    assert Event.objects.get(pk=event.pk).records.filter(action="urge").count() == 1


def test_the_documents_are_generated_from_the_table():
    call_command("operations_docs", "--check")
