"""`Authorization: Token <key>`: the written-out lookup answers as DRF's TokenAuthentication does."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from interfaces.api.authentication import ApiTokenAuthentication
from tests.factories import user

pytestmark = pytest.mark.django_db


def client_with(header: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header, HTTP_ACCEPT_LANGUAGE="en")
    return client


def test_a_valid_token_signs_the_user_in_and_its_user_costs_no_second_query():
    token = Token.objects.create(user=user("op_nanhu"))
    with CaptureQueriesContext(connection) as queries:
        found_user, found_token = ApiTokenAuthentication().authenticate_credentials(token.key)
        assert found_token.user is found_user
    assert len(queries) == 1
    assert found_token.pk == token.key and found_token.created == token.created
    assert found_user.pk == token.user_id and found_user.username == "op_nanhu"
    assert found_user.password == token.user.password  # every column, as the ORM would load it
    assert not found_user._state.adding and found_user._state.db == "default"
    response = client_with(f"Token {token.key}").get("/api/v1/events")
    assert response.status_code == 200


def test_an_unknown_token_is_refused_with_drfs_message():
    response = client_with("Token " + "0" * 40).get("/api/v1/events")
    assert response.status_code == 401
    assert "Invalid token" in response.content.decode()


def test_the_token_of_an_inactive_user_is_refused():
    token = Token.objects.create(user=user("op_nanhu"))
    token.user.is_active = False
    token.user.save(update_fields=["is_active"])
    response = client_with(f"Token {token.key}").get("/api/v1/events")
    assert response.status_code == 401
    assert "inactive" in response.content.decode()


def test_a_token_header_without_a_key_is_refused():
    assert client_with("Token").get("/api/v1/events").status_code == 401
