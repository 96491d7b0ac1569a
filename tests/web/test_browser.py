"""The closed loop in a real browser (Debian's chromium driven by Playwright), phone and desktop sized.

grid worker files with a photo → operator dispatches → handler submits →
grid worker verifies → operator closes. Screenshots of every main page go to
var/screenshots/ (named in the README).
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from fixtures.demo_city import DEMO_PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Written on every run (var/ is not tracked); docs/screenshots/ holds a reviewed copy.
SHOTS = Path(os.environ.get("CITYGOV_SCREENSHOTS", Path(__file__).resolve().parents[2] / "var" / "screenshots"))
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium (.ci/run installs it)"),
]


def _photo() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), (120, 160, 90)).save(buf, "JPEG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def browser():
    # The ORM runs beside Playwright's event loop in this thread; only for this module.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
            yield browser
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


class Session:
    def __init__(self, browser, base: str, size: str, username: str):
        self.size = size
        self.context = browser.new_context(viewport=VIEWPORTS[size], locale="zh-CN", timezone_id="Asia/Shanghai")
        self.page = self.context.new_page()
        self.base = base
        self.page.goto(f"{base}/accounts/login/")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", DEMO_PASSWORD)
        self.page.click("main button[type=submit]")
        self.page.wait_for_load_state("networkidle")

    def go(self, path: str):
        self.page.goto(f"{self.base}{path}")
        self.page.wait_for_load_state("networkidle")

    def shot(self, name: str):
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{self.size}-{name}.png"), full_page=True)

    def open_action(self, name: str):
        self.page.click(f"#action-{name} > summary")

    def close(self):
        self.context.close()


def _no_horizontal_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("size", list(VIEWPORTS))
@pytest.mark.usefixtures("committed_city")
def test_closed_loop_in_the_browser(browser, live_server, size):
    from incidents.models import Event

    base = live_server.url

    login = browser.new_context(viewport=VIEWPORTS[size], locale="zh-CN").new_page()
    login.goto(f"{base}/accounts/login/")
    SHOTS.mkdir(parents=True, exist_ok=True)
    login.screenshot(path=str(SHOTS / f"{size}-01-login.png"), full_page=True)
    login.context.close()

    # 1. The grid worker files an event with a photo, choosing the place on the map.
    gw = Session(browser, base, size, "gw_nanhu1")
    gw.go("/report/")
    assert gw.page.locator("#category-search").count() == 1, gw.page.content()[1500:5000]
    gw.page.fill("#category-search", "违法建设")
    assert gw.page.input_value("select[name=category]")
    gw.page.fill("input[name=title]", "小区内违法搭建")
    gw.page.fill("textarea[name=description]", "3号楼楼顶新搭建彩钢板房")
    gw.page.set_input_files(
        "input[name=photos]", files=[{"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": _photo()}]
    )
    gw.page.wait_for_selector("#leafmap .leaflet-interactive, #leafmap path")
    gw.page.locator("#leafmap").click()  # the middle of the user's own grids
    assert gw.page.input_value("input[name=latitude]")
    gw.shot("02-report-form")
    assert _no_horizontal_overflow(gw.page)
    gw.page.click("button.primary.wide")
    gw.page.wait_for_load_state("networkidle")
    event = Event.objects.latest("id")
    assert event.title == "小区内违法搭建" and event.attachments.count() == 1
    assert gw.page.url.endswith(f"/events/{event.pk}/")
    gw.shot("03-event-filed")

    # 2. The operator dispatches from the console, as routing suggests.
    op = Session(browser, base, size, "op_nanhu")
    op.go("/console/")
    assert event.code in op.page.content()
    op.shot("04-console")
    op.go(f"/events/{event.pk}/")
    op.open_action("dispatch")
    op.shot("05-event-dispatch")
    op.page.click("#action-dispatch button[type=submit]")
    op.page.wait_for_load_state("networkidle")
    event.refresh_from_db()
    assert event.state == "dispatched" and event.lead_department.code == "990102001-chengguan"

    # 3. The handler accepts and submits the result with an after-photo.
    hd = Session(browser, base, size, "hd_nanhu_chengguan")
    hd.go("/inbox/")
    hd.shot("06-inbox")
    hd.go(f"/events/{event.pk}/")
    hd.open_action("accept")
    hd.page.click("#action-accept button[type=submit]")
    hd.page.wait_for_load_state("networkidle")
    hd.open_action("submit-result")
    hd.page.fill("textarea[name=submit-result-note]", "已责令拆除，现场恢复原状")
    hd.page.set_input_files(
        "input[name=submit-result-photos]", files=[{"name": "after.jpg", "mimeType": "image/jpeg", "buffer": _photo()}]
    )
    hd.shot("07-submit-result")
    hd.page.click("#action-submit-result button[type=submit]")
    hd.page.wait_for_load_state("networkidle")
    event.refresh_from_db()
    assert event.state == "handled"

    # 4. The grid worker verifies on site.
    gw.go("/verify/")
    assert event.code in gw.page.content()
    gw.go(f"/events/{event.pk}/")
    gw.open_action("verify")
    gw.page.check("input[name=verify-passed][value='1']")
    gw.shot("08-verify")
    gw.page.click("#action-verify button[type=submit]")
    gw.page.wait_for_load_state("networkidle")
    event.refresh_from_db()
    assert event.state == "verified"

    # 5. The operator closes it.
    op.go(f"/events/{event.pk}/")
    op.open_action("close")
    op.page.click("#action-close button[type=submit]")
    op.page.wait_for_load_state("networkidle")
    event.refresh_from_db()
    assert event.state == "closed"
    op.shot("09-event-closed")
    assert _no_horizontal_overflow(op.page)

    sup = Session(browser, base, size, "sup_jiangnan")
    sup.go("/supervise/")
    sup.shot("10-supervise")
    sup.go("/reports/sla/")
    sup.shot("11-sla-report")
    sup.go("/notifications/")
    sup.shot("12-notifications")
    for session in (gw, op, hd, sup):
        session.close()


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "root"), [("/api/v1/docs/", "#swagger-ui"), ("/api/v1/redoc/", "#redoc-container")])
def test_api_docs_render_under_the_production_csp(browser, live_server, settings, path, root):
    # The production policy, read per request by the middleware of the running live server.
    settings.CSP_HEADER = settings.CSP_STRICT_POLICY
    context = browser.new_context(viewport=VIEWPORTS["desktop"], locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    response = page.goto(f"{live_server.url}{path}")
    assert response is not None and "nonce-" in response.headers["content-security-policy"]
    page.wait_for_load_state("networkidle")
    # Swagger UI renders the operations list; ReDoc its menu of operations.
    page.wait_for_selector(f"{root} .opblock, {root} [role=menuitem], {root} li", timeout=15000)
    assert page.locator(root).inner_text().strip(), f"{root} is empty"
    assert "citygov API" in page.content()
    assert errors == [], "\n".join(errors)
    context.close()


@pytest.mark.usefixtures("committed_city")
@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_report_and_ranking_charts_draw_under_the_production_csp(browser, live_server, settings, size):
    # ECharts from static/vendor, chart code from static/js, data from json_script: nothing inline.
    settings.CSP_HEADER = settings.CSP_STRICT_POLICY
    sup = Session(browser, live_server.url, size, "sup_jiangnan")
    errors: list[str] = []
    sup.page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    sup.page.on("pageerror", lambda exc: errors.append(str(exc)))
    sup.go("/reports/sla/?unit=990102")
    for chart in ("trend", "lights"):
        sup.page.wait_for_selector(f".chart[data-chart={chart}] canvas", timeout=15000)
    assert _no_horizontal_overflow(sup.page)
    sup.shot("17-report-charts")
    sup.go("/reports/ranking/?unit=990102&period=year")
    assert sup.page.locator("table.ranking").count() == 2
    assert _no_horizontal_overflow(sup.page)
    sup.shot("18-ranking")
    assert errors == [], "\n".join(errors)


def _errors_of(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


@pytest.mark.parametrize("size", list(VIEWPORTS))
@pytest.mark.usefixtures("committed_city")
def test_hotline_map_photo_and_supervision_in_the_browser(browser, live_server, settings, tmp_path, size):
    """#19: the hotline intake with the address search and the map, a photo kept across a form
    error, and the supervisor finding and urging an overdue event, under the production CSP."""
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone
    from freezegun import freeze_time

    from dispatch.models import RoutingRule
    from incidents.models import Event
    from operations.sweep import sweep
    from tests.factories import GRID, file_event, point_in

    settings.CSP_HEADER = settings.CSP_STRICT_POLICY
    RoutingRule.objects.update(is_active=False)
    lat, lon = point_in(GRID)
    csv = tmp_path / "addresses.csv"
    csv.write_text(f"address,latitude,longitude\n南湖路12号,{lat:.6f},{lon:.6f}\n", encoding="utf-8")
    call_command("import_addresses", str(csv))
    base = live_server.url

    # 1. A 12345 call: the operator opens the hotline mode from the console.
    op = Session(browser, base, size, "op_nanhu")
    errors = _errors_of(op.page)
    op.go("/console/")
    op.page.click("a[href='/report/hotline/']")
    op.page.wait_for_load_state("networkidle")
    assert op.page.input_value("select[name=source]") == "hotline_12345"
    op.page.fill("input[name=reporter_name]", "王先生")
    op.page.fill("input[name=reporter_phone]", "13800000000")
    op.page.fill("#category-search", "垃圾")
    assert "暴露垃圾" in op.page.evaluate("document.querySelector('[name=category]').selectedOptions[0].textContent")
    op.page.fill("textarea[name=description]", "市民来电：南湖路12号门口垃圾两天没人收")
    op.page.set_input_files(
        "input[name=photos]", files=[{"name": "caller.jpg", "mimeType": "image/jpeg", "buffer": _photo()}]
    )
    # The caller's address, from the city's own list: the point lands on the map.
    op.page.fill("#place-search", "南湖路1")
    op.page.wait_for_selector("#place-results button.place")
    op.page.click("#place-results button.place >> nth=0")
    assert abs(float(op.page.input_value("input[name=latitude]")) - lat) < 1e-5
    assert op.page.input_value("input[name=address]") == "南湖路12号"
    assert op.page.locator("#leafmap .leaflet-marker-icon").count() == 1
    op.shot("13-hotline-intake")
    assert _no_horizontal_overflow(op.page)
    # 2. Submitted without a title: the error sits beside the field and the photo is still there.
    op.page.click("button.primary.wide")
    op.page.wait_for_load_state("networkidle")
    assert op.page.locator("#field-title .error").count() == 1
    assert op.page.locator(".stashed-photo img").count() == 1
    assert op.page.evaluate("document.querySelector('.stashed-photo img').naturalWidth") > 0
    op.shot("14-photo-kept")
    op.page.fill("input[name=title]", "小区门口垃圾")
    op.page.click("button.primary.wide")
    op.page.wait_for_load_state("networkidle")
    event = Event.objects.latest("id")
    assert event.source == "hotline_12345" and event.attachments.count() == 1
    assert event.title == "小区门口垃圾"
    # The map placement by a tap, on a second try of the form.
    op.go("/report/")
    op.page.locator("#leafmap").click()
    assert op.page.input_value("input[name=latitude]")
    assert op.page.locator("#leafmap .leaflet-marker-icon").count() == 1
    # Dragging the marker moves the point.
    before = op.page.input_value("input[name=latitude]")
    box = op.page.locator("#leafmap .leaflet-marker-icon").bounding_box()
    op.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] - 4)
    op.page.mouse.down()
    op.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] + 30, steps=8)
    op.page.mouse.up()
    assert float(op.page.input_value("input[name=latitude]")) < float(before)  # dragged south
    # The GCJ-02 shift for 高德/腾讯-style tiles: a few hundred metres in China, undone on the way back.
    shift = op.page.evaluate(
        """() => { const d = window.citygovMapDatum, g = d.wgsToGcj(39.9087, 116.3975), w = d.gcjToWgs(g[0], g[1]);
                   return [g[0], g[1], w[0], w[1], d.wgsToGcj(48.85, 2.35)[0]]; }"""
    )
    assert abs(shift[0] - 39.9101) < 3e-4 and abs(shift[1] - 116.4037) < 3e-4  # 天安门, published values
    assert abs(shift[2] - 39.9087) < 1e-6 and abs(shift[3] - 116.3975) < 1e-6
    assert shift[4] == 48.85  # outside China nothing moves

    # 3. An event nobody dispatched in time: the sweep escalates it; the supervisor finds and urges it.
    with freeze_time(timezone.now() - timedelta(hours=2)):
        late = file_event(title="路边垃圾无人派遣")
    sweep()
    sup = Session(browser, base, size, "sup_nanhu")
    sup_errors = _errors_of(sup.page)
    sup.go("/supervise/")
    sup.page.click("a[href='/supervise/events/?due=overdue']")
    sup.page.wait_for_load_state("networkidle")
    assert late.code in sup.page.content()
    assert sup.page.locator("#leafmap path.ev-red, #leafmap path.ev").count() >= 1
    sup.shot("15-supervise-events")
    row = sup.page.locator("tr", has_text=late.code)
    row.locator("input[name=note]").fill("请立即派遣")
    row.locator("button[type=submit]").click()
    sup.page.wait_for_load_state("networkidle")
    assert "/supervise/events/?due=overdue" in sup.page.url
    assert Event.objects.get(pk=late.pk).urge_count == 1
    assert _no_horizontal_overflow(sup.page)
    op.go("/console/")
    op.shot("16-console-map")
    assert errors == [] and sup_errors == [], "\n".join(errors + sup_errors)
    op.close()
    sup.close()
