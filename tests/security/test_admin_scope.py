"""The admin shows a staff user only the events of their jurisdiction, and what hangs off them.

Personas: a 江南区 operator and a 河西区 operator, both given staff status and every
model-level view permission of the event pages (as a city might, to let district
staff look things up); the superuser sees all.
"""

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from accounts.models import User
from dispatch.models import (
    DepartmentEndpoint,
    Notification,
    OutboxMessage,
    RoutingRule,
    RoutingSuggestion,
    SlaClock,
    WebhookDelivery,
)
from incidents.models import ApprovalRequest, Event, EventRecord
from operations import services
from tests.factories import dept, dispatched_event, file_event, png, user

pytestmark = pytest.mark.django_db

VIEW = [
    ("incidents", "event"),
    ("incidents", "eventrecord"),
    ("incidents", "approvalrequest"),
    ("dispatch", "slaclock"),
    ("dispatch", "notification"),
    ("dispatch", "outboxmessage"),
    ("dispatch", "webhookdelivery"),
    ("dispatch", "routingsuggestion"),
]


def staff(username: str) -> User:
    person = user(username)
    person.is_staff = True
    person.save(update_fields=["is_staff"])
    for app, model in VIEW:
        person.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=f"view_{model}"))
    return person


@pytest.fixture
def event():
    """A 江南区 event with a history, a clock, a request, a notification, a webhook and a suggestion."""
    RoutingRule.objects.update(is_active=False)
    event = dispatched_event(photos=[png()])
    services.event_accept(actor=user("hd_nanhu_huanwei"), event_id=event.pk)
    services.extension_request(actor=user("hd_nanhu_huanwei"), event_id=event.pk, hours=4, reason="等材料")
    message = OutboxMessage.objects.filter(event=event).first()
    endpoint = DepartmentEndpoint.objects.create(department=dept("990102001-huanwei"), url="http://127.0.0.1:9/x")
    WebhookDelivery.objects.create(message=message, endpoint=endpoint, body="{}", next_attempt_at=timezone.now())
    Notification.objects.create(user=user("op_nanhu"), event=event, kind="file", text=event.code)
    RoutingSuggestion.objects.create(event=event, department=dept("990102001-huanwei"))
    return Event.objects.get(pk=event.pk)


def _rows(event):
    return {
        "incidents/event": event.pk,
        "incidents/eventrecord": EventRecord.objects.filter(event=event).first().pk,
        "incidents/approvalrequest": ApprovalRequest.objects.get(event=event).pk,
        "dispatch/slaclock": SlaClock.objects.filter(event=event).first().pk,
        "dispatch/notification": Notification.objects.get(event=event).pk,
        "dispatch/outboxmessage": OutboxMessage.objects.filter(event=event).first().pk,
        "dispatch/webhookdelivery": WebhookDelivery.objects.get(message__event=event).pk,
        "dispatch/routingsuggestion": RoutingSuggestion.objects.get(event=event).pk,
    }


@pytest.mark.parametrize(("username", "sees"), [("op_jiangnan", True), ("op_hexi", False), ("admin", True)])
def test_admin_lists_and_pages_follow_the_staff_users_jurisdiction(client, event, username, sees):
    client.force_login(staff(username) if username != "admin" else user("admin"))
    for page, pk in _rows(event).items():
        listing = client.get(f"/admin/{page}/")
        assert listing.status_code == 200, page
        assert (pk in {row.pk for row in listing.context["cl"].result_list}) is sees, (page, username)
        detail = client.get(f"/admin/{page}/{pk}/change/")
        if sees:
            assert detail.status_code == 200, page
        else:
            # The admin's answer for a missing object: back to the index, nothing shown.
            assert detail.status_code == 302, page
            assert event.code not in detail.content.decode()
    for page in ("incidents/event", "incidents/eventrecord", "dispatch/slaclock", "dispatch/outboxmessage"):
        found = client.get(f"/admin/{page}/", {"q": event.code}).context["cl"].result_count
        assert (found > 0) is sees, (page, username)


def test_admin_history_data_names_another_event_only_to_those_who_may_see_it(client):
    """A staff grid worker of grid 01 reads A's absorb record without B's code (B is in grid 02)."""
    RoutingRule.objects.update(is_active=False)
    target = file_event(grid="99010200100101")
    duplicate = file_event(grid="99010200100102")
    services.event_merge(actor=user("op_nanhu"), event_id=duplicate.pk, into_event_id=target.pk)
    code = Event.objects.get(pk=duplicate.pk).code
    absorb = EventRecord.objects.get(event=target, action="absorb")
    client.force_login(staff("gw_nanhu1_01"))
    page = client.get(f"/admin/incidents/eventrecord/{absorb.pk}/change/")
    assert page.status_code == 200
    assert code not in page.content.decode() and "&quot;duplicate&quot;: null" in page.content.decode()
    client.force_login(staff("op_nanhu"))
    assert code in client.get(f"/admin/incidents/eventrecord/{absorb.pk}/change/").content.decode()
