"""Login lockout behind the proxy (#16 item 5): the real client address, and an address-wide limit."""

import pytest
from django.test import RequestFactory, override_settings

from interfaces.lockout import client_ip

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
CADDY = "10.0.0.2"  # the proxy, as gunicorn sees it


def _post(client, username, password, *, forwarded=None, remote=CADDY):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def _meta(remote, forwarded=None):
    request = RequestFactory().get("/", REMOTE_ADDR=remote)
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return request


@override_settings(TRUSTED_PROXY_COUNT=0)
def test_without_trusted_proxies_forwarded_for_is_ignored():
    assert client_ip(_meta("192.0.2.7", "203.0.113.5")) == "192.0.2.7"


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_one_trusted_proxy_reads_the_address_it_appended():
    assert client_ip(_meta(CADDY, "203.0.113.5")) == "203.0.113.5"
    # The client's own X-Forwarded-For stays on the left of what the proxy appended.
    assert client_ip(_meta(CADDY, "198.51.100.9, 203.0.113.5")) == "203.0.113.5"
    # A request that reached gunicorn without the proxy: only its own address is known.
    assert client_ip(_meta("192.0.2.7")) == "192.0.2.7"
    # Garbage where the address should be: fall back to the peer rather than store it.
    assert client_ip(_meta(CADDY, "not-an-address")) == CADDY


@override_settings(TRUSTED_PROXY_COUNT=2)
def test_two_trusted_proxies():
    assert client_ip(_meta("10.0.0.3", "198.51.100.9, 203.0.113.5, 10.0.0.2")) == "203.0.113.5"


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_two_clients_behind_the_proxy_are_locked_separately(client):
    for _ in range(5):
        _post(client, "op_city", "wrong", forwarded="203.0.113.5")
    locked = _post(client, "op_city", "demo-2026", forwarded="203.0.113.5")
    assert locked.status_code in (403, 429)
    assert "_auth_user_id" not in client.session
    # Same username, same proxy, another client: not locked out by the first one's failures.
    other = _post(client, "op_city", "demo-2026", forwarded="203.0.113.6")
    assert other.status_code == 302
    assert client.session["_auth_user_id"]


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_a_client_cannot_escape_its_lockout_by_forging_forwarded_for(client):
    for n in range(5):
        _post(client, "op_city", "wrong", forwarded=f"198.51.100.{n}, 203.0.113.5")
    forged = _post(client, "op_city", "demo-2026", forwarded="198.51.100.77, 203.0.113.5")
    assert forged.status_code in (403, 429)
    assert "_auth_user_id" not in client.session


@override_settings(TRUSTED_PROXY_COUNT=0)
def test_without_a_proxy_forged_forwarded_for_does_not_change_the_address(client):
    for n in range(5):
        _post(client, "op_city", "wrong", forwarded=f"198.51.100.{n}", remote="192.0.2.7")
    forged = _post(client, "op_city", "demo-2026", forwarded="198.51.100.99", remote="192.0.2.7")
    assert forged.status_code in (403, 429)


@override_settings(TRUSTED_PROXY_COUNT=1, AXES_FAILURE_LIMIT=5, AXES_IP_FAILURE_LIMIT=8)
def test_an_address_trying_many_usernames_is_locked(client):
    usernames = ["op_city", "op_hexi", "op_nanhu", "op_jiangnan"]
    # Two failures per username: every pair stays under 5, the address reaches 8.
    for username in usernames:
        for _ in range(2):
            _post(client, username, "wrong", forwarded="203.0.113.5")
    # A fifth username, never tried from here, with its right password: the address is locked.
    sprayed = _post(client, "sup_nanhu", "demo-2026", forwarded="203.0.113.5")
    assert sprayed.status_code in (403, 429)
    assert "_auth_user_id" not in client.session
    # Another address is not affected.
    assert _post(client, "sup_nanhu", "demo-2026", forwarded="203.0.113.6").status_code == 302


@override_settings(TRUSTED_PROXY_COUNT=1, AXES_FAILURE_LIMIT=5, AXES_IP_FAILURE_LIMIT=8)
def test_an_address_below_its_limit_can_still_sign_in(client):
    for username in ["op_city", "op_hexi", "op_nanhu"]:
        for _ in range(2):
            _post(client, username, "wrong", forwarded="203.0.113.5")
    # 6 failures from the address (< 8), 2 for the pair (< 5): a correct password works.
    assert _post(client, "op_hexi", "demo-2026", forwarded="203.0.113.5").status_code == 302
