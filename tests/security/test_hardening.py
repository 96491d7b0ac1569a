import pytest
from django.test import override_settings

from core.errors import RateLimited
from incidents.models import Event
from tests.factories import file_event

pytestmark = pytest.mark.django_db


def test_login_is_locked_after_repeated_failures(client):
    for _ in range(5):
        client.post("/accounts/login/", {"username": "op_city", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "op_city", "password": "demo-2026"})
    assert response.status_code in (403, 429)
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_username(client):
    for _ in range(5):
        client.post("/accounts/login/", {"username": "op_city", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "op_hexi", "password": "demo-2026"})
    assert response.status_code == 302


@override_settings(INTAKE_RATE_PER_USER_PER_MINUTE=3)
def test_intake_is_rate_limited_per_user():
    from django.core.cache import cache

    cache.clear()
    for _ in range(3):
        file_event()
    count = Event.objects.count()
    with pytest.raises(RateLimited, match="limit 3"):
        file_event()
    assert Event.objects.count() == count
    file_event(reporter="gw_nanhu1_01")  # someone else is not held back


def test_forms_need_csrf():
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/accounts/login/", {"username": "op_city", "password": "demo-2026"})
    assert response.status_code == 403
