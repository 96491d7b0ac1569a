"""The map's data, the standard-address list and the address search: scoped, ranked, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from accounts.models import StandardAddress
from dispatch.models import RoutingRule
from tests.factories import GRID, file_event, point_in

pytestmark = pytest.mark.django_db

XILING_GRID = "99010300100101"  # 西岭街道, 河西区


@pytest.fixture(autouse=True)
def manual_dispatch():
    RoutingRule.objects.update(is_active=False)


def _csv(tmp_path: Path, rows: list[str], name: str = "addr.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(["address,latitude,longitude", *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def addresses(tmp_path):
    lat, lon = point_in(GRID)
    xlat, xlon = point_in(XILING_GRID)
    path = _csv(
        tmp_path,
        [
            f"南湖路12号,{lat:.6f},{lon:.6f}",
            f"江南大道南湖路口,{lat + 0.0001:.6f},{lon:.6f}",
            f"南湖路,{lat:.6f},{lon + 0.0001:.6f}",
            f"西岭路8号,{xlat:.6f},{xlon:.6f}",
        ],
    )
    call_command("import_addresses", str(path))
    return path


def _map_data(response) -> dict:
    html = response.content.decode()
    start = html.index('<script id="map-data" type="application/json">') + len(
        '<script id="map-data" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def test_import_addresses_adds_then_updates(addresses, tmp_path, capsys):
    assert StandardAddress.objects.count() == 4
    entry = StandardAddress.objects.get(address="南湖路12号")
    assert entry.grid.code == GRID
    lat, lon = point_in(GRID)
    call_command("import_addresses", str(_csv(tmp_path, [f"南湖路12号,{lat + 0.0002:.6f},{lon:.6f}"], "again.csv")))
    entry.refresh_from_db()
    assert entry.latitude == pytest.approx(lat + 0.0002, abs=1e-6)
    assert "0 added, 1 updated" in capsys.readouterr().out


def test_import_addresses_is_all_or_nothing_and_names_row_and_field(tmp_path, capsys):
    lat, lon = point_in(GRID)
    path = _csv(tmp_path, [f"南湖路1号,{lat:.6f},{lon:.6f}", "南湖路2号,north,121", f",{lat},{lon}", "远方1号,10,10"])
    with pytest.raises(CommandError, match="3 problem"):
        call_command("import_addresses", str(path))
    err = capsys.readouterr().err
    assert "row 3, field latitude" in err
    assert "row 4, field address: empty" in err
    assert "row 5, fields latitude/longitude" in err and "outside every grid" in err
    assert not StandardAddress.objects.exists()


def test_import_addresses_names_a_missing_column(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("address,lat\nx,1\n", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("import_addresses", str(path))
    assert "missing column(s) latitude, longitude" in capsys.readouterr().err


def test_address_search_ranks_exact_then_prefix_and_stays_in_scope(addresses, login, client):
    op = login("op_nanhu")
    found = op.get("/places/search", {"q": "南湖路"}).json()["results"]
    names = [r["name"] for r in found]
    assert names[0] == "南湖路"  # exact
    assert names.index("南湖路12号") < names.index("江南大道南湖路口")  # prefix before contains
    assert "西岭路8号" not in names
    assert found[0]["kind"] == "address" and found[0]["latitude"] == pytest.approx(point_in(GRID)[0], abs=1e-5)
    # Unit names too, and only within scope.
    units = [r for r in op.get("/places/search", {"q": "南湖一村"}).json()["results"] if r["kind"] == "unit"]
    assert units and all(r["name"].startswith("南湖一村") for r in units)
    client.logout()
    other = login("op_xiling")
    assert other.get("/places/search", {"q": "南湖"}).json()["results"] == []
    assert [r["name"] for r in other.get("/places/search", {"q": "西岭路"}).json()["results"]] == ["西岭路8号"]


def test_address_search_refuses_empty_text(login):
    response = login("op_nanhu").get("/places/search", {"q": " "}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and "(q)" in response.json()["message"]


def test_the_intake_map_has_the_users_polygons_and_no_tiles_by_default(login):
    data = _map_data(login("gw_nanhu1").get("/report/"))
    assert data["tiles"] is None and data["editable"] is True
    codes = {u["code"] for u in data["units"]}
    assert GRID in codes and XILING_GRID not in codes
    assert any(u["tier"] == 4 and u["name"] == "南湖一村社区" for u in data["units"])
    grid = next(u for u in data["units"] if u["code"] == GRID)
    assert grid["label"] == "第1网格"  # inside its community's outline


@override_settings(
    MAP_TILE_URL="https://t{s}.tianditu.gov.cn/vec_w/wmts?x={x}&y={y}&z={z}&tk=KEY",
    MAP_TILE_SUBDOMAINS="01234567",
    MAP_TILE_CRS="gcj02",
    CSP_HEADER="default-src 'self'; img-src 'self' data:",
)
def test_a_tile_url_reaches_the_map_and_the_csp(login):
    response = login("gw_nanhu1").get("/report/")
    data = _map_data(response)
    assert data["tiles"]["url"].startswith("https://t{s}.tianditu.gov.cn/")
    assert data["tiles"]["subdomains"] == "01234567"
    assert data["crs"] == "gcj02"
    assert "img-src 'self' data: https://*.tianditu.gov.cn" in response["Content-Security-Policy"]


def test_console_map_shows_only_events_in_scope_coloured(login, client):
    mine = file_event()
    theirs = file_event(reporter="gw_xiling1", grid=XILING_GRID)
    data = _map_data(login("op_nanhu").get("/console/"))
    codes = {e["code"]: e for e in data["events"]}
    assert mine.code in codes and theirs.code not in codes
    assert codes[mine.code]["light"] == "green" and codes[mine.code]["url"] == f"/events/{mine.pk}/"
    assert all(u["code"].startswith("990102001") for u in data["units"])


def test_past_the_cap_a_city_user_still_sees_every_street(persona, monkeypatch):
    from accounts.models import OrgUnit, Tier
    from interfaces.web import maps

    streets = OrgUnit.objects.filter(tier=Tier.STREET).count()
    monkeypatch.setattr(maps, "MAX_UNITS", streets + 1)
    units = maps.scoped_units(persona("op_city"), "operate_event")
    assert len(units) == streets + 1
    assert {u.tier for u in units[:streets]} == {Tier.STREET}
