"""The production path in a browser (#16 item 7): gunicorn with citygov.settings.prod, WhiteNoise
serving what collectstatic wrote, a fresh PostgreSQL database; once straight to gunicorn (the README's
no-Docker path) and once behind Caddy running deploy/Caddyfile (compose.yaml's path). Debian's
chromium loads a page with its CSS and JS, a photo and its thumbnail, Swagger UI and ReDoc, with no
console error, no failed request and no error status.

PostgreSQL only: skipped with the reason on SQLite; .ci/run's PostgreSQL step sets
CITYGOV_REQUIRE_PROD_SMOKE=1, which turns a missing piece into a failure.
"""

from __future__ import annotations

import os
import shutil

import pytest

from fixtures.demo_city import DEMO_PASSWORD
from tests.deploy import stack as stack_module
from tests.deploy.conftest import start_stack
from tests.web.test_browser import CHROMIUM, LAUNCH_ARGS

pytestmark = [pytest.mark.postgres, pytest.mark.browser]


@pytest.fixture(scope="module", params=["gunicorn", "caddy"])
def prod(request):
    stack, root = start_stack(caddy=request.param == "caddy")
    yield stack
    stack.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def chromium():
    if not os.path.exists(CHROMIUM):
        why = "needs Debian's chromium (.ci/run installs it)"
        if stack_module.required():
            pytest.fail(f"the production smoke cannot run: {why}")
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


class Watched:
    """A page whose console errors, uncaught exceptions, failed requests and error answers are kept."""

    def __init__(self, browser, base: str):
        self.base = base
        self.context = browser.new_context(locale="en-US", viewport={"width": 1366, "height": 900})
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.loaded: list[tuple[str, int, str]] = []
        self.page.on(
            "console", lambda m: self.problems.append(f"console: {m.text} {m.location}") if m.type == "error" else None
        )
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url} {r.failure}"))
        self.page.on("response", self._response)

    def _response(self, response) -> None:
        self.loaded.append((response.url, response.status, response.headers.get("content-type", "")))
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def go(self, path: str):
        response = self.page.goto(f"{self.base}{path}")
        self.page.wait_for_load_state("networkidle")
        return response

    def sign_in(self, username: str) -> None:
        self.go("/accounts/login/")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", DEMO_PASSWORD)
        self.page.click("main button[type=submit]")
        self.page.wait_for_load_state("networkidle")
        assert "/accounts/login/" not in self.page.url, "signed in (the Secure session cookie was kept)"

    def close(self) -> None:
        self.context.close()


def _static(page, suffix: str) -> list[str]:
    return [u for u, s, _t in page.loaded if "/static/" in u and u.endswith(suffix) and s == 200]


def test_a_page_with_its_css_and_js(prod, chromium):
    page = Watched(chromium, prod.base_url)
    page.sign_in("gw_nanhu1")
    response = page.go("/report/")
    assert response is not None and response.status == 200
    # Its stylesheet and script came from WhiteNoise under collectstatic's content-hashed names.
    styles, scripts = _static(page, ".css"), _static(page, ".js")
    assert any("/css/citygov." in u for u in styles) and any("/js/citygov." in u for u in scripts), page.loaded
    assert all(len(u.rsplit("/", 1)[-1].split(".")) >= 3 for u in styles + scripts), "hashed names"
    assert page.page.evaluate("() => [...document.styleSheets].some(s => s.cssRules.length > 0)")
    # The script runs: tapping the map fills the location fields.
    assert page.page.input_value("[name=latitude]") == ""
    page.page.wait_for_selector("#leafmap .leaflet-interactive, #leafmap path")
    page.page.locator("#leafmap").click()  # the middle of the user's own grids
    assert page.page.input_value("[name=latitude]") != ""
    assert page.problems == [], "\n".join(page.problems)
    page.close()


def test_a_photo_and_its_thumbnail(prod, chromium):
    photo = prod.photo
    page = Watched(chromium, prod.base_url)
    page.sign_in("op_nanhu")
    response = page.go(f"/events/{photo.event_pk}/")
    assert response is not None and response.status == 200
    assert photo.event_code in page.page.content()
    # The thumbnails displayed (decoded, not broken images), through the scoped route.
    images = page.page.evaluate("() => [...document.images].map(i => [i.currentSrc, i.complete && i.naturalWidth > 0])")
    thumbs = [ok for src, ok in images if f"/photos/{photo.attachment}?size=thumb" in src]
    assert thumbs and all(thumbs), images
    # The full photo, as the thumbnail's link opens it.
    page.page.click(f'a[href="/events/{photo.event_pk}/photos/{photo.attachment}"] >> nth=0')
    page.page.wait_for_load_state("networkidle")
    full = [(s, t) for u, s, t in page.loaded if u.endswith(f"/photos/{photo.attachment}")]
    assert full and full[-1] == (200, "image/jpeg"), full
    assert page.page.evaluate("() => document.images[0].naturalWidth") == 800
    assert page.problems == [], "\n".join(page.problems)
    page.close()


@pytest.mark.parametrize(("path", "root"), [("/api/v1/docs/", "#swagger-ui"), ("/api/v1/redoc/", "#redoc-container")])
def test_swagger_ui_and_redoc_render(prod, chromium, path, root):
    page = Watched(chromium, prod.base_url)
    page.sign_in("op_nanhu")
    response = page.go(path)
    assert response is not None and response.status == 200
    assert "nonce-" in response.headers["content-security-policy"]
    page.page.wait_for_selector(f"{root} .opblock, {root} [role=menuitem]", timeout=20000)
    assert "citygov API" in page.page.content()
    assert page.problems == [], "\n".join(page.problems)
    page.close()
