"""The sample city of docs/examples/city (青川市, codes 8801…, east of the demo city), and broken copies of it."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management import call_command

from accounts.models import Department, DepartmentType, Membership, OrgUnit, User

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "city"
PREFIX = "8801"


def units() -> dict[str, Any]:
    return json.loads((EXAMPLE / "UNITS.geojson").read_text(encoding="utf-8"))


def csv_rows(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((EXAMPLE / name).read_text(encoding="utf-8-sig"))))


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def feature(data: dict[str, Any], code: str) -> dict[str, Any]:
    return next(f for f in data["features"] if f["properties"]["code"] == code)


def city_files(
    tmp_path: Path,
    edit_units: Callable[[dict[str, Any]], None] | None = None,
    edit_departments: Callable[[list[dict[str, str]]], None] | None = None,
    edit_people: Callable[[list[dict[str, str]]], None] | None = None,
) -> dict[str, str]:
    """The three files, each copied (and edited) into tmp_path."""
    data = units()
    if edit_units:
        edit_units(data)
    (tmp_path / "UNITS.geojson").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    departments, people = csv_rows("DEPARTMENTS.csv"), csv_rows("PEOPLE.csv")
    if edit_departments:
        edit_departments(departments)
    if edit_people:
        edit_people(people)
    return {
        "units": str(tmp_path / "UNITS.geojson"),
        "departments": str(write_csv(tmp_path / "DEPARTMENTS.csv", departments)),
        "people": str(write_csv(tmp_path / "PEOPLE.csv", people)),
    }


def example_files() -> dict[str, str]:
    return {
        "units": str(EXAMPLE / "UNITS.geojson"),
        "departments": str(EXAMPLE / "DEPARTMENTS.csv"),
        "people": str(EXAMPLE / "PEOPLE.csv"),
    }


def run(files: dict[str, str], *extra: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    args = [f"--{k}={v}" for k, v in files.items()]
    call_command("import_city", *args, *extra, "--no-progress", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(files: dict[str, str], *extra: str) -> list[str]:
    """Run an import that must fail; the problem lines it printed."""
    import pytest
    from django.core.management import CommandError

    out, err = io.StringIO(), io.StringIO()
    args = [f"--{k}={v}" for k, v in files.items()]
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_city", *args, *extra, "--no-progress", stdout=out, stderr=err)
    return err.getvalue().splitlines()


def snapshot() -> dict[str, Any]:
    """Everything an import may write, to compare before and after."""
    return {
        "units": sorted(OrgUnit.objects.values_list("code", "name", "path", "parent_id", "boundary")),
        "departments": sorted(Department.objects.values_list("code", "name", "type_id", "org_unit_id")),
        "types": sorted(DepartmentType.objects.values_list("code", "name")),
        "users": sorted(User.objects.values_list("username", "display_name", "phone", "password")),
        "memberships": sorted(Membership.objects.values_list("user_id", "role", "org_unit_id", "department_id")),
    }
