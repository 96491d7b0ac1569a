"""The admin's "Import a city": the command's service, problems beside their rows, nothing written on error."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import OrgUnit, User
from tests.accounts.city_files import EXAMPLE, PREFIX, city_files, csv_rows, feature, snapshot

pytestmark = pytest.mark.django_db
URL = "/admin/accounts/orgunit/import-city/"


def upload(path, name=None) -> SimpleUploadedFile:
    with open(path, "rb") as f:
        return SimpleUploadedFile(name or path.rsplit("/", 1)[-1], f.read())


def example_uploads() -> dict[str, SimpleUploadedFile]:
    return {
        "units": upload(str(EXAMPLE / "UNITS.geojson")),
        "departments": upload(str(EXAMPLE / "DEPARTMENTS.csv")),
        "people": upload(str(EXAMPLE / "PEOPLE.csv")),
    }


def test_the_org_unit_list_links_to_the_import(login):
    response = login("admin").get("/admin/accounts/orgunit/", HTTP_ACCEPT_LANGUAGE="en")
    assert URL in response.content.decode()


def test_the_page_is_in_chinese_by_default(login):
    response = login("admin").get(URL, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "导入城市" in response.content.decode()


def test_a_dry_run_reports_and_writes_nothing(login):
    before = snapshot()
    response = login("admin").post(URL, {**example_uploads(), "dry_run": "on"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    report = response.context["report"]
    assert report.ok and report.dry_run and report.units.created == 16
    assert "Dry run: no problems found; nothing was written." in response.content.decode()
    assert snapshot() == before


def test_the_city_imports_and_imports_again_without_duplicates(login):
    client = login("admin")
    response = client.post(URL, example_uploads(), HTTP_ACCEPT_LANGUAGE="en")
    assert response.context["report"].written
    assert "City imported." in response.content.decode()
    assert OrgUnit.objects.filter(code__startswith=PREFIX).count() == 16
    response = client.post(URL, example_uploads(), HTTP_ACCEPT_LANGUAGE="en")
    assert response.context["report"].units.updated == 16
    assert OrgUnit.objects.filter(code__startswith=PREFIX).count() == 16


def test_problems_are_shown_beside_their_rows_and_nothing_is_written(login, tmp_path):
    def edit_units(data):
        feature(data, "880102002")["properties"]["parent"] = "880109"

    def edit_people(rows):
        rows[0]["role"] = "mayor"

    files = city_files(tmp_path, edit_units=edit_units, edit_people=edit_people)
    before = snapshot()
    response = login("admin").post(URL, {name: upload(path) for name, path in files.items()}, HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert '<table id="problems">' in html
    assert "<td>UNITS.geojson</td><td>feature 5</td><td>parent</td>" in html
    assert "unknown parent 880109" in html
    assert "<td>PEOPLE.csv</td><td>row 2</td><td>role</td>" in html
    assert "2 problems: nothing was written." in html
    assert snapshot() == before


def test_a_spreadsheet_of_people_is_read_like_the_csv(login):
    client = login("admin")
    rows = csv_rows("PEOPLE.csv")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(rows[0]))
    for row in rows:
        sheet.append(list(row.values()))
    sheet.cell(row=3, column=4, value="mayor")  # the second person, in sheet row 3
    data = io.BytesIO()
    book.save(data)
    uploads = example_uploads()
    uploads["people"] = SimpleUploadedFile("PEOPLE.xlsx", data.getvalue())
    response = client.post(URL, uploads, HTTP_ACCEPT_LANGUAGE="en")
    problems = [str(p) for p in response.context["report"].problems]
    assert problems == ["PEOPLE.xlsx: row 3: role: unknown role 'mayor' (grid_worker, operator, supervisor, handler)"]


def test_no_file_is_a_form_error(login):
    response = login("admin").post(URL, {}, HTTP_ACCEPT_LANGUAGE="en")
    assert "Choose at least one file." in response.content.decode()


def test_staff_without_the_permissions_may_not_import(client):
    staff = User.objects.create_user("staff_only", password="x-2026-long-enough", is_staff=True)
    client.force_login(staff)
    assert client.get(URL).status_code == 403
