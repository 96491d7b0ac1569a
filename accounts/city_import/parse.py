"""Reading UNITS.geojson, DEPARTMENTS.csv and PEOPLE.csv into rows; shape errors become Problems.

Only the form of each file is checked here (JSON, columns, required fields,
geometry validity); how rows refer to each other and to the database is
validate's job.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from shapely.geometry import shape
from shapely.validation import explain_validity

from accounts.city_import.records import CityFiles, DepartmentRow, PersonRow, Problem, Source, UnitRow
from accounts.geometry import BOUNDARY_TYPES
from accounts.models import Tier

DEPARTMENT_COLUMNS = ("code", "name", "type", "unit")
PEOPLE_COLUMNS = ("username", "full_name", "phone", "role", "unit", "department")

TIER_NAMES: dict[str, int] = {
    "city": Tier.CITY,
    "district": Tier.DISTRICT,
    "street": Tier.STREET,
    "town": Tier.STREET,
    "community": Tier.COMMUNITY,
    "grid": Tier.GRID,
    "市": Tier.CITY,
    "区": Tier.DISTRICT,
    "街道": Tier.STREET,
    "街镇": Tier.STREET,
    "镇": Tier.STREET,
    "社区": Tier.COMMUNITY,
    "网格": Tier.GRID,
}


def tier_from_code(code: str, has_parent: bool) -> int | None:
    """The tier a code's length implies (the demo city's scheme, administrative-division style).

    6 digits: the city when it has no parent, else a district; 9: a street/town;
    12: a community; 14-16: a grid (the community's 12 digits + a 2-4 digit sequence).
    """
    n = len(code)
    if n == 6:
        return Tier.DISTRICT if has_parent else Tier.CITY
    return {9: Tier.STREET, 12: Tier.COMMUNITY, 14: Tier.GRID, 15: Tier.GRID, 16: Tier.GRID}.get(n)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    return str(value).strip() if isinstance(value, str) else ""


def _decode(source: Source, problems: list[Problem]) -> str | None:
    try:
        return source.content.decode("utf-8-sig")  # a spreadsheet's UTF-8 BOM is accepted
    except UnicodeDecodeError as exc:
        problems.append(Problem(source.name, "file", "encoding", f"not UTF-8 (byte {exc.start})"))
        return None


def _geometry(source: str, where: str, value: Any, problems: list[Problem]) -> tuple[dict[str, Any] | None, Any]:
    if value is None:
        return None, None
    if not isinstance(value, dict) or value.get("type") not in BOUNDARY_TYPES:
        kind = value.get("type") if isinstance(value, dict) else type(value).__name__
        problems.append(Problem(source, where, "geometry", f"must be a Polygon or MultiPolygon, not {kind}"))
        return None, None
    try:
        geom = shape(value)
    except Exception as exc:  # shapely raises several types for malformed coordinates
        problems.append(Problem(source, where, "geometry", f"malformed coordinates: {exc}"))
        return None, None
    if not geom.is_empty and not geom.is_valid:  # before the area: a bow tie's two halves cancel out to 0
        problems.append(Problem(source, where, "geometry", f"invalid polygon: {explain_validity(geom)}"))
        return None, None
    if geom.is_empty or geom.area == 0:
        problems.append(Problem(source, where, "geometry", "the polygon is empty"))
        return None, None
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        problems.append(Problem(source, where, "geometry", "lies outside longitude -180..180 / latitude -90..90"))
        return None, None
    return {"type": value["type"], "coordinates": value["coordinates"]}, geom


def _unit(source: str, n: int, feature: Any, problems: list[Problem]) -> UnitRow | None:
    where = f"feature {n}"
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        problems.append(Problem(source, where, "type", 'each member of "features" must be a GeoJSON Feature'))
        return None
    props = feature.get("properties")
    if not isinstance(props, dict):
        problems.append(Problem(source, where, "properties", "missing (needs code, name, parent)"))
        return None
    before = len(problems)
    code, name, parent = _text(props.get("code")), _text(props.get("name")), _text(props.get("parent"))
    if not code:
        problems.append(Problem(source, where, "code", "required"))
    elif not code.isdigit() or len(code) > 16:
        problems.append(Problem(source, where, "code", f"{code!r}: codes are at most 16 digits, digits only"))
    if not name:
        problems.append(Problem(source, where, "name", "required"))
    elif len(name) > 64:
        problems.append(Problem(source, where, "name", "longer than 64 characters"))
    if parent and not parent.isdigit():
        problems.append(Problem(source, where, "parent", f"{parent!r}: codes are digits only"))
    tier_text = _text(props.get("tier")).lower()
    tier: int | None = None
    if tier_text:
        tier = TIER_NAMES.get(tier_text)
        if tier is None:
            problems.append(
                Problem(source, where, "tier", f"{tier_text!r}: one of city, district, street, community, grid")
            )
    elif code.isdigit():
        tier = tier_from_code(code, bool(parent))
        if tier is None:
            problems.append(
                Problem(
                    source,
                    where,
                    "code",
                    f"cannot tell the tier of a {len(code)}-digit code (6, 9, 12 or 14-16 digits); give a tier",
                )
            )
    boundary, geom = _geometry(source, where, feature.get("geometry"), problems)
    if tier == Tier.GRID and feature.get("geometry") is None:
        problems.append(Problem(source, where, "geometry", "a grid needs a Polygon or MultiPolygon"))
    if not code.isdigit() or len(code) > 16:
        return None
    # Kept despite other problems, so rows referring to this code are not also reported as unknown.
    return UnitRow(where, code, name, parent, tier, boundary, geom, ok=len(problems) == before)


def parse_units(source: Source, problems: list[Problem]) -> list[UnitRow]:
    text = _decode(source, problems)
    if text is None:
        return []
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        problems.append(Problem(source.name, "file", "json", f"not JSON: {exc}"))
        return []
    if (
        not isinstance(data, dict)
        or data.get("type") != "FeatureCollection"
        or not isinstance(data.get("features"), list)
    ):
        problems.append(Problem(source.name, "file", "type", 'must be a GeoJSON FeatureCollection with "features"'))
        return []
    rows = [_unit(source.name, n, f, problems) for n, f in enumerate(data["features"], start=1)]
    return [r for r in rows if r is not None]


def _csv_rows(source: Source, columns: tuple[str, ...], problems: list[Problem]) -> list[tuple[str, dict[str, str]]]:
    text = _decode(source, problems)
    if text is None:
        return []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in columns if c not in header]
    if missing:
        problems.append(
            Problem(
                source.name, "row 1", "header", f"missing column(s) {', '.join(missing)}; needs {','.join(columns)}"
            )
        )
        return []
    reader.fieldnames = header
    rows = []
    for record in reader:
        if not any((v or "").strip() for v in record.values() if isinstance(v, str)):
            continue  # a blank line
        # reader.line_num is the physical line the record ended on: the row a spreadsheet shows.
        rows.append((f"row {reader.line_num}", {c: (record.get(c) or "").strip() for c in columns}))
    return rows


def _required(source: str, where: str, values: dict[str, str], names: tuple[str, ...], problems: list[Problem]) -> bool:
    ok = True
    for name in names:
        if not values[name]:
            problems.append(Problem(source, where, name, "required"))
            ok = False
    return ok


def parse_departments(source: Source, problems: list[Problem]) -> list[DepartmentRow]:
    rows = []
    for where, v in _csv_rows(source, DEPARTMENT_COLUMNS, problems):
        _required(source.name, where, v, DEPARTMENT_COLUMNS, problems)
        if v["code"]:  # kept even when incomplete, so people in it are not also reported as unknown
            rows.append(DepartmentRow(where, v["code"], v["name"], v["type"], v["unit"]))
    return rows


def parse_people(source: Source, problems: list[Problem]) -> list[PersonRow]:
    rows = []
    for where, v in _csv_rows(source, PEOPLE_COLUMNS, problems):
        if _required(source.name, where, v, ("username", "full_name", "role"), problems):
            rows.append(
                PersonRow(
                    where, v["username"], v["full_name"], v["phone"], v["role"].lower(), v["unit"], v["department"]
                )
            )
    return rows


def parse(units: Source | None = None, departments: Source | None = None, people: Source | None = None) -> CityFiles:
    """Read whichever of the three files were given."""
    files = CityFiles()
    if units is not None:
        files.units_file, files.units = units.name, parse_units(units, files.problems)
    if departments is not None:
        files.departments_file, files.departments = departments.name, parse_departments(departments, files.problems)
    if people is not None:
        files.people_file, files.people = people.name, parse_people(people, files.problems)
    files.unreadable = {p.file for p in files.problems if p.where in ("file", "row 1")}
    return files
