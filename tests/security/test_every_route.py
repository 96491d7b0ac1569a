"""Every URL route, tried by personas who must not see an event of 江南区.

For each route that takes an event (id or code): other district's operator,
handler and grid worker, and anonymous visitors never get it (404, 403, 401
or a redirect to sign in) and nothing changes. For every list-like GET route,
the event's code never appears in the body of someone outside its scope.
"""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from accounts.models import User
from dispatch.models import RoutingRule
from incidents.models import Event
from tests.factories import dispatched_event, png

pytestmark = pytest.mark.django_db

OUTSIDERS = ["op_hexi", "hd_hexi_chengguan", "gw_xiling1", "sup_hexi", "op_xiling"]


def _routes(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if pattern.startswith("admin/"):
                continue  # staff only; covered by test_admin_is_closed_to_non_staff
            yield from _routes(entry, pattern)
        elif isinstance(entry, URLPattern):
            yield pattern


def _fill(pattern: str, event: Event) -> str | None:
    """A concrete path for the pattern, pointing at `event` where it takes one."""
    path = pattern.lstrip("^").rstrip("$").replace("\\.", ".")
    path = re.sub(r"<int:pk>", str(event.pk), path)
    path = re.sub(r"<str:code>|\(\?P<request_id>[^)]*\)|\(\?P<token>[^)]*\)", event.code, path)
    path = re.sub(r"<int:request_id>", "1", path)
    path = re.sub(r"<int:attachment_id>", str(event.attachments.values_list("pk", flat=True).first()), path)
    path = re.sub(r"<slug:name>", "escalate", path)
    path = re.sub(r"\(\?P<fmt>[^)]*\)", "json", path)
    path = re.sub(r"\(\?P<code>[^)]*\)", "E0101", path)
    if "<" in path or "(?P" in path:
        return None
    return "/" + path


ROUTES = sorted(set(_routes()))
EVENT_ROUTES = [r for r in ROUTES if "<int:pk>" in r or "<str:code>" in r or "request_id" in r]


@pytest.fixture
def event():
    RoutingRule.objects.update(is_active=False)
    return dispatched_event(photos=[png("before.png")])  # a photo, for the photo routes


def _client(username):
    client = APIClient()
    if username:
        client.force_login(User.objects.get(username=username))
    return client


@pytest.mark.parametrize("pattern", EVENT_ROUTES)
@pytest.mark.parametrize("username", [*OUTSIDERS, None])
def test_event_routes_refuse_outsiders(event, pattern, username):
    path = _fill(pattern, event)
    assert path is not None, pattern
    client = _client(username)
    before = Event.objects.filter(pk=event.pk).values("state", "version").get()
    if path.startswith("/open311/"):
        # Public by the GeoReport spec, but only for requests filed through Open311.
        assert client.get(path).status_code == 404
        return
    get = client.get(path)
    post = client.post(path, {"reason": "x", "escalate-reason": "x"})
    for response in (get, post):
        assert response.status_code in (302, 401, 403, 404, 405), (path, username, response.status_code)
        if response.status_code == 302:
            assert "/accounts/login/" in response["Location"]
        assert event.code not in response.content.decode(errors="ignore")
    assert Event.objects.filter(pk=event.pk).values("state", "version").get() == before


LIST_ROUTES = [r for r in ROUTES if r not in EVENT_ROUTES and "<" not in r and "(?P<code>" not in r]


@pytest.mark.parametrize("pattern", LIST_ROUTES)
@pytest.mark.parametrize("username", ["op_hexi", "hd_hexi_chengguan", "gw_xiling1", "sup_hexi", None])
def test_lists_never_show_another_districts_event(event, pattern, username):
    path = _fill(pattern, event)
    if path is None or path.endswith(("/logout/", "/read", "/setlang/", "bulk-dispatch")):
        return
    response = _client(username).get(path)
    assert response.status_code < 500, (path, response.status_code)
    assert event.code not in response.content.decode(errors="ignore"), (path, username)


def test_the_same_checks_find_the_event_for_someone_in_scope(event):
    """Guard against a vacuous pass: the insider does see it on the same routes."""
    client = _client("op_nanhu")
    assert event.code in client.get("/console/?state=all").content.decode()
    assert event.code in client.get("/api/v1/events").content.decode()
    assert client.get(f"/events/{event.pk}/").status_code == 200
    photo = event.attachments.get()
    for path in (f"/events/{event.pk}/photos/{photo.pk}", f"/api/v1/events/{event.code}/photos/{photo.pk}"):
        response = client.get(path)
        assert (response.status_code, response["Content-Type"]) == (200, "image/png"), path
