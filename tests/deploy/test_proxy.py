"""Behind Caddy with production settings (#16 items 4, 5): photos leave through the proxy, only for
people who may see the event; the internal prefix is unreachable; the lockout sees real clients."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.demo_city import DEMO_PASSWORD
from interfaces.attachments import PHOTO_POLICY
from tests.deploy.stack import ACCEL_PREFIX, Http

pytestmark = pytest.mark.postgres


def _signed_in(stack, username: str, source: str = "127.0.0.1") -> Http:
    client = Http(stack.port, source)
    response = client.login(username, DEMO_PASSWORD)
    assert response.status == 302, (response.status, response.body[:300])
    return client


def _stored(stack, name: str) -> bytes:
    return (Path(stack.env["MEDIA_ROOT"]) / name).read_bytes()


def test_an_allowed_user_gets_the_photo_from_caddy_not_from_python(caddy_stack):
    photo = caddy_stack.photo
    client = _signed_in(caddy_stack, "op_nanhu")
    path = f"/events/{photo.event_pk}/photos/{photo.attachment}"
    response = client.get(path)
    assert response.status == 200
    assert response.body == _stored(caddy_stack, photo.file_name)
    assert response.headers["content-type"] == "image/jpeg"
    # Caddy's file_server answered (Django's FileResponse sets neither ETag nor Last-Modified, and
    # with the accel prefix set Django sends no body at all); the view's privacy headers were kept.
    assert response.headers.get("etag") and response.headers.get("last-modified")
    assert response.headers["cache-control"] == "private"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == PHOTO_POLICY
    assert "x-accel-redirect" not in response.headers, "the internal path is not disclosed"
    # The thumbnail the same way, and the API route too.
    thumb = client.get(f"{path}?size=thumb")
    assert thumb.status == 200 and thumb.headers["content-type"] == "image/webp"
    assert thumb.body == _stored(caddy_stack, photo.thumbnail_name) and thumb.headers.get("etag")
    api = client.get(f"/api/v1/events/{photo.event_code}/photos/{photo.attachment}", {"Accept": "image/*"})
    assert api.status == 200 and api.body == response.body


def test_gunicorn_itself_only_hands_over_the_path(caddy_stack):
    """The same request straight to gunicorn: headers and the internal path, no bytes."""
    photo = caddy_stack.photo
    client = Http(caddy_stack.gunicorn_port)
    assert client.login("op_nanhu", DEMO_PASSWORD).status == 302
    response = client.get(f"/events/{photo.event_pk}/photos/{photo.attachment}")
    assert response.status == 200
    assert response.headers["x-accel-redirect"] == f"{ACCEL_PREFIX}/{photo.file_name}"
    assert response.body == b""


@pytest.mark.parametrize("username", ["op_xiling", "op_gangkou", "gw_xiling1"])
def test_another_streets_user_gets_404(caddy_stack, username):
    photo = caddy_stack.photo
    client = _signed_in(caddy_stack, username)
    for path in (
        f"/events/{photo.event_pk}/photos/{photo.attachment}",
        f"/events/{photo.event_pk}/photos/{photo.attachment}?size=thumb",
        f"/api/v1/events/{photo.event_code}/photos/{photo.attachment}",
    ):
        response = client.get(path)
        assert response.status == 404, (path, response.status)
        assert response.body != _stored(caddy_stack, photo.file_name)


def test_the_internal_prefix_and_the_media_folder_are_unreachable(caddy_stack):
    photo = caddy_stack.photo
    signed_in = _signed_in(caddy_stack, "op_nanhu")
    for client in (Http(caddy_stack.port), signed_in):
        for path in (
            f"{ACCEL_PREFIX}/{photo.file_name}",
            f"{ACCEL_PREFIX}/{photo.thumbnail_name}",
            f"/PROTECTED-MEDIA/{photo.file_name}",
            f"/%70rotected-media/{photo.file_name}",
            f"/media/{photo.file_name}",
            f"/static/../media/{photo.file_name}",
        ):
            response = client.get(path)
            assert response.status == 404, (path, response.status)
            assert response.body != _stored(caddy_stack, photo.file_name)
    # A client sending its own X-Accel-Redirect request header changes nothing.
    forged = Http(caddy_stack.port).get("/healthz", {"X-Accel-Redirect": f"{ACCEL_PREFIX}/{photo.file_name}"})
    assert forged.body != _stored(caddy_stack, photo.file_name)


def _fail(stack, source: str, username: str, times: int, forwarded: str | None = None) -> None:
    headers = {"X-Forwarded-For": forwarded} if forwarded else None
    for n in range(times):
        response = Http(stack.port, source).login(username, "wrong-password", headers)
        # The form again, with its error; the failure that reaches a limit is answered as locked.
        expected = (200,) if n < times - 1 else (200, 429)
        assert response.status in expected, (n, response.status)


def test_two_clients_behind_caddy_are_locked_separately_and_cannot_spoof(caddy_stack):
    _fail(caddy_stack, "127.0.0.2", "op_city", 5)
    locked = Http(caddy_stack.port, "127.0.0.2").login("op_city", DEMO_PASSWORD)
    assert locked.status == 429
    # Its own X-Forwarded-For does not make it someone else.
    spoofed = Http(caddy_stack.port, "127.0.0.2").login("op_city", DEMO_PASSWORD, {"X-Forwarded-For": "127.0.0.9"})
    assert spoofed.status == 429
    # The other client, same username, same proxy: signs in.
    assert Http(caddy_stack.port, "127.0.0.3").login("op_city", DEMO_PASSWORD).status == 302


def test_an_address_trying_many_usernames_is_locked_behind_caddy(caddy_stack):
    # 20 failures (AXES_IP_FAILURE_LIMIT) over five usernames, four each: no pair reaches 5.
    for username in ["op_hexi", "op_nanhu", "op_jiangnan", "sup_nanhu", "gw_nanhu1_01"]:
        _fail(caddy_stack, "127.0.0.4", username, 4, forwarded="10.9.8.7")
    assert Http(caddy_stack.port, "127.0.0.4").login("hd_nanhu_huanwei", DEMO_PASSWORD).status == 429
    assert Http(caddy_stack.port, "127.0.0.5").login("hd_nanhu_huanwei", DEMO_PASSWORD).status == 302
