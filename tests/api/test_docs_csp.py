"""Swagger UI and ReDoc run under the product's Content-Security-Policy.

Their pages need inline init code: each inline script and style carries the
request's nonce, and that response's policy allows exactly that nonce. Other
pages keep the strict policy, with no nonce at all.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest


class InlineCode(HTMLParser):
    """Collects the nonce of every inline <script> and <style> (a script with src is no inline code)."""

    def __init__(self) -> None:
        super().__init__()
        self.nonces: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "style" or (tag == "script" and not values.get("src")):
            self.nonces.append(values.get("nonce"))


def _directive(policy: str, name: str) -> list[str]:
    for part in policy.split(";"):
        words = part.split()
        if words and words[0] == name:
            return words[1:]
    return []


@pytest.fixture
def strict_csp(settings):
    settings.CSP_HEADER = settings.CSP_STRICT_POLICY
    return settings.CSP_STRICT_POLICY


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_api_docs_inline_code_is_allowed_by_its_nonce_only(client, strict_csp, path):
    response = client.get(path)
    assert response.status_code == 200
    parser = InlineCode()
    parser.feed(response.content.decode())
    assert parser.nonces, "the page has inline init code"
    assert None not in parser.nonces and "" not in parser.nonces, "every inline script and style has a nonce"
    (nonce,) = set(parser.nonces)
    policy = response.headers["Content-Security-Policy"]
    for directive in ("script-src", "style-src"):
        sources = _directive(policy, directive)
        assert [s for s in sources if s.startswith("'nonce-")] == [f"'nonce-{nonce}'"]
        # The nonce replaces 'unsafe-inline', never joins it.
        assert "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources
    assert "fonts.googleapis.com" not in response.content.decode(), "no CDN: assets are vendored"


@pytest.mark.django_db
def test_each_request_gets_a_new_nonce(client, strict_csp):
    first = client.get("/api/v1/docs/").headers["Content-Security-Policy"]
    second = client.get("/api/v1/docs/").headers["Content-Security-Policy"]
    assert re.search(r"'nonce-[^']+'", first) and first != second


@pytest.mark.django_db
def test_other_pages_keep_the_strict_policy(client, strict_csp):
    response = client.get("/accounts/login/")
    assert response.headers["Content-Security-Policy"] == strict_csp
    assert "nonce-" not in response.headers["Content-Security-Policy"]
