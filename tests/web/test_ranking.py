"""The ranking page, its CSV and XLSX (title block, formula, percentages), and the charts' data."""

import io
import json
import re
from datetime import date

import pytest
from django.db import connections
from freezegun import freeze_time
from openpyxl import load_workbook

from tests.dispatch.test_scores import LHW, NCG, NHW, history  # noqa: F401 - the fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("history")]
QUERY = {"unit": "990102", "period": "month", "date": "2026-11-15"}
NOW = "2026-11-20 12:00:00+08:00"


def get(client, url, query=QUERY):
    with freeze_time(NOW):
        return client.get(url, query, HTTP_ACCEPT_LANGUAGE="en")


def json_script(html: str, element_id: str):
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    assert match, f"no json_script {element_id}"
    return json.loads(match.group(1))


def test_ranking_page_shows_scores_arrows_formula_and_chart_data(login):
    page = get(login("sup_jiangnan"), "/reports/ranking/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "100 × (40 × 按期结案率 + 30 × 结案率 + 20 × (1 − 返工率) + 10 × (1 − 退回率)) ÷ 100" in html
    assert "↑" in html and "↓" in html
    assert "vendor/echarts/echarts.min.js" in html and "js/report-charts.js" in html
    assert "<script>" not in html  # no inline code: the CSP forbids it
    chart = json_script(html, "ranking-data")
    departments = chart["department"]
    assert departments["scores"] == [100.0, 75.0, 60.0]
    assert departments["labels"][0] == page.context["ranking"].departments.placings[0].label
    assert chart["region"]["scores"] == [95.0, 60.0]


def test_ranking_csv_has_the_title_block_and_percentages(login):
    response = get(login("sup_jiangnan"), "/reports/ranking.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="ranking-990102-month-20261101.csv"' in response["Content-Disposition"]
    lines = response.content.decode("utf-8-sig").splitlines()
    head = {line.split(",", 1)[0]: line for line in lines[:8]}
    assert head["area"].endswith("(990102)")
    assert "2026-11: 2026-11-01 – 2026-11-30" in head["period"]
    assert "2026-10: 2026-10-01 – 2026-10-31" in head["compared with"]
    assert head["generated at"] == "generated at,2026-11-20 12:00"
    text = "\n".join(lines)
    assert "score of Departments,100 × (40 × 按期结案率" in text
    assert "应结案数" in text  # the standard definitions follow
    ncg = next(line for line in lines if line.startswith("Departments,2,"))
    # rank, name, score, arrow, previous rank, previous score, 按期, 结案, 返工, 退回
    assert ncg.split(",")[3:] == ["75.00", "↓", "1", "100.00", "100.00%", "100.00%", "100.00%", "50.00%"]


def test_ranking_xlsx_has_the_title_block_and_percent_cells(login):
    response = get(login("sup_jiangnan"), "/reports/ranking.xlsx")
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Departments", "Regions", "Definitions"]
    sheet = book["Departments"]
    assert sheet["A1"].value == "area" and sheet["B1"].value.endswith("(990102)")
    assert sheet["A2"].value == "period" and sheet["A4"].value == "generated at"
    assert sheet["A5"].value == "score" and sheet["B5"].value.startswith("100 × (40 × 按期结案率")
    header = [c.value for c in sheet[7]]
    assert header[:3] == ["rank", "name", "score"]
    first = [c.value for c in sheet[8]]
    assert first[0] == 1 and first[2] == 100.0 and first[3] == "↑"
    ncg = next(row for row in sheet.iter_rows(min_row=8) if row[2].value == 75.0)
    assert ncg[9].value == 0.5 and ncg[9].number_format == "0.00%"
    definitions = [row[0].value for row in book["Definitions"].iter_rows()]
    assert "应结案数" in definitions and "score" in definitions


def test_bad_ranking_input_is_explained(login):
    client = login("sup_jiangnan")
    response = client.get("/reports/ranking/", {"unit": "990102", "period": "week"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert client.get("/reports/ranking.csv", {"unit": "990102", "period": "week"}).status_code == 400
    assert client.get("/reports/ranking/", {"unit": "990102", "date": "1900-01-01"}).status_code == 200


def test_a_street_operator_cannot_rank_the_district(login):
    client = login("op_nanhu")
    page = get(client, "/reports/ranking/")
    assert page.context["ranking"] is None  # 990102 is not theirs: the form refuses it
    own = get(client, "/reports/ranking/", {**QUERY, "unit": "990102001"})
    keys = {p.key for p in own.context["ranking"].departments.placings}
    assert keys == {NHW, NCG} and LHW not in own.content.decode()


def test_report_page_charts_data_and_replica_line(login):
    client = login("sup_jiangnan")
    page = get(client, "/reports/sla/", {"unit": "990102", "start": "2026-11-01", "end": "2026-11-30"})
    html = page.content.decode()
    lights = json_script(html, "light-data")
    regions = page.context["report"].by_region
    assert lights["labels"] == [r.label for r in regions]
    assert lights["green"] == [r.open_green for r in regions] and lights["red"] == [r.open_red for r in regions]
    assert 'data-url="/reports/trend.json?unit=990102&amp;year=2026"' in html
    if "replica" in connections:  # DATABASE_REPLICA_URL set: the mirror of the test database
        assert "read from the replica, 0.0 s behind the primary" in html
    else:
        assert "no replica: read from the primary (lag 0 s)" in html


def test_trend_json_is_each_months_rates(login):
    client = login("sup_jiangnan")
    data = get(client, "/reports/trend.json", {"unit": "990102", "year": 2026}).json()
    assert data["labels"][-1] == "2026-11" and len(data["labels"]) == 11
    # October: 3 closed, 2 on time, none reworked; November: 5 closed, 4 on time, 1 reworked.
    assert data["series"]["closure_rate"][9:] == [100.0, 100.0]
    assert data["series"]["on_time_rate"][9:] == [round(200 / 3, 2), 80.0]
    assert data["series"]["rework_rate"][9:] == [0.0, 20.0]
    assert data["series"]["closure_rate"][0] is None  # January: nothing due
    assert get(client, "/reports/trend.json", {"unit": "990102", "year": "x"}).status_code == 400


def test_a_street_operators_trend_is_their_street(login):
    client = login("op_nanhu")
    assert get(client, "/reports/trend.json", {"unit": "990102", "year": 2026}).status_code == 400
    data = get(client, "/reports/trend.json", {"unit": "990102001", "year": 2026}).json()
    # 南湖 only: October 2 closed (1 on time); 柳岸's events are not in it.
    assert data["should_close"][9:] == [2, 4] and data["series"]["on_time_rate"][9] == 50.0


def test_ranking_for_a_year_from_the_page(login):
    page = get(login("sup_jiangnan"), "/reports/ranking/", {**QUERY, "period": "year"})
    assert page.context["ranking"].start == date(2026, 1, 1)
