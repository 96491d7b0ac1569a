"""Photos are served only through the scoped photo routes, to people who may see the event."""

import importlib

import pytest
from django.test import override_settings
from django.urls import Resolver404, clear_url_caches, resolve
from rest_framework.test import APIClient

from accounts.models import User
from tests.factories import dispatched_event, file_event, png

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    return dispatched_event(photos=[png("before.png")])


def _client(username):
    client = APIClient()
    if username:
        client.force_login(User.objects.get(username=username))
    return client


def _paths(event):
    photo = event.attachments.get()
    return f"/events/{event.pk}/photos/{photo.pk}", f"/api/v1/events/{event.code}/photos/{photo.pk}"


@pytest.mark.parametrize("username", ["op_nanhu", "hd_nanhu_huanwei", "gw_nanhu1", "sup_jiangnan", "admin"])
def test_people_who_see_the_event_get_its_photo_privately(event, username):
    photo = event.attachments.get()
    with photo.file.open("rb") as fh:
        stored = fh.read()
    for path in _paths(event):
        response = _client(username).get(path, HTTP_ACCEPT="image/*")
        assert response.status_code == 200, (path, response.status_code)
        assert b"".join(response.streaming_content) == stored
        assert response["Content-Type"] == "image/png"
        assert response["Cache-Control"] == "private"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "X-Accel-Redirect" not in response


@pytest.mark.parametrize(
    "username",
    [
        "op_hexi",  # another district's operator
        "gw_xiling1",  # another district's grid worker
        "hd_hexi_chengguan",  # another district's department
        "hd_nanhu_chengguan",  # same street, a department that never had the event
        "gw_haiwan1",
    ],
)
def test_everyone_else_gets_404(event, username):
    for path in _paths(event):
        response = _client(username).get(path, HTTP_ACCEPT="image/*")
        assert response.status_code == 404, (path, response.status_code)
        assert event.code not in response.content.decode(errors="ignore")


def test_anonymous_visitors_get_nothing(event):
    page, api = _paths(event)
    response = _client(None).get(page)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert _client(None).get(api).status_code in (401, 403)


def test_a_photo_is_only_found_under_its_own_event(event):
    """An event you may see does not lend its URL to a photo of an event you may not see."""
    outside = file_event(reporter="gw_xiling1", grid="99010300100101", photos=[png("theirs.png")])
    theirs = outside.attachments.get()
    client = _client("op_nanhu")
    assert client.get(f"/events/{event.pk}/photos/{theirs.pk}").status_code == 404
    assert client.get(f"/api/v1/events/{event.code}/photos/{theirs.pk}").status_code == 404


def test_a_missing_file_is_404_not_500(event):
    photo = event.attachments.get()
    photo.file.storage.delete(photo.file.name)
    for path in _paths(event):
        assert _client("op_nanhu").get(path).status_code == 404


def test_behind_nginx_the_bytes_are_handed_to_the_proxy(event):
    photo = event.attachments.get()
    with override_settings(ATTACHMENT_ACCEL_REDIRECT_PREFIX="/protected-media/"):
        for path in _paths(event):
            response = _client("op_nanhu").get(path)
            assert response.status_code == 200
            assert response["X-Accel-Redirect"] == f"/protected-media/{photo.file.name}"
            assert response.content == b""
            assert (response["Content-Type"], response["Cache-Control"]) == ("image/png", "private")
            assert response["X-Content-Type-Options"] == "nosniff"
        assert _client("op_hexi").get(path).status_code == 404


def test_pages_and_api_link_only_to_the_scoped_route(event):
    photo = event.attachments.get()
    page = _client("op_nanhu").get(f"/events/{event.pk}/").content.decode()
    assert f"/events/{event.pk}/photos/{photo.pk}" in page
    assert photo.file.name not in page and "/media/" not in page
    [listed] = [e for e in _client("op_nanhu").get("/api/v1/events").json()["results"] if e["code"] == event.code]
    detail = _client("op_nanhu").get(f"/api/v1/events/{event.code}").json()
    assert listed["photos"] == detail["photos"]
    [shown] = detail["photos"]
    assert shown["url"] == f"http://testserver/api/v1/events/{event.code}/photos/{photo.pk}"
    assert (shown["kind"], shown["content_type"], shown["sha256"]) == ("before", "image/png", photo.sha256)
    assert _client("op_nanhu").get(shown["url"]).status_code == 200
    assert _client("op_hexi").get(shown["url"]).status_code == 404


def test_media_files_have_no_public_route_even_in_debug(event):
    """The development server used to serve MEDIA_ROOT to every visitor when DEBUG was on."""
    import citygov.urls

    photo = event.attachments.get()
    try:
        with override_settings(DEBUG=True):
            clear_url_caches()
            importlib.reload(citygov.urls)
            with pytest.raises(Resolver404):
                resolve(f"/media/{photo.file.name}")
    finally:
        clear_url_caches()
        importlib.reload(citygov.urls)
