"""The intake form carries the suggestions box: a static script (CSP: no inline JS) and the API's URL."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_intake_form_offers_suggestions(login):
    response = login("op_nanhu").get("/report/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="dispatch-suggestions"' in body and 'data-suggest-url="/api/v1/dispatch/suggest"' in body
    assert "js/suggest.js" in body and "Suggested categories" in body
    # The script finds the fields it reads by name, and the CSRF token the API needs.
    for name in ("title", "description", "category", "latitude", "longitude", "source", "csrfmiddlewaretoken"):
        assert f'name="{name}"' in body
