"""Checking the parsed files against each other and the database, before anything is written.

Every problem is collected (not only the first), each naming its file, feature
or row and field. What passes becomes a Plan that apply writes in one go.
References resolve against the files given and what the database already
holds, so a city can import its units first and its people another day.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from accounts.city_import.geometry_checks import check_inside_communities, check_overlaps
from accounts.city_import.records import CityFiles, DepartmentRow, PersonRow, Problem, UnitRow
from accounts.department_types import DEPARTMENT_TYPES
from accounts.models import CODE_LENGTHS, Department, DepartmentType, Membership, OrgUnit, Role, Tier, User

IMPORTED_ROLES = (Role.GRID_WORKER, Role.OPERATOR, Role.SUPERVISOR, Role.HANDLER)
DEPARTMENT_CODE = re.compile(r"^[-a-zA-Z0-9_]+$")
T = TypeVar("T")


def chunks(items: Iterable[T], size: int = 900) -> Iterator[list[T]]:
    """Batches small enough for any backend's limit on query parameters."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass
class Plan:
    """What apply will write; also what --dry-run reports."""

    units: list[UnitRow] = field(default_factory=list)  # parents before children
    departments: list[tuple[DepartmentRow, str]] = field(default_factory=list)  # row, resolved type code
    types_to_add: list[tuple[str, str, str]] = field(default_factory=list)
    people: list[PersonRow] = field(default_factory=list)
    db_unit_codes: set[str] = field(default_factory=set)  # the file's units that already exist
    db_department_codes: set[str] = field(default_factory=set)
    db_usernames: set[str] = field(default_factory=set)
    db_memberships: set[tuple[str, str, str, str]] = field(default_factory=set)  # username, role, unit, department


@dataclass(frozen=True)
class _Unit:
    code: str
    tier: int
    where: str  # "" for a unit only in the database


def _validate_units(files: CityFiles, plan: Plan, problems: list[Problem]) -> dict[str, _Unit]:
    """Units known after the import (database + file), keyed by code."""
    db = {code: _Unit(code, tier, "") for code, tier in OrgUnit.objects.values_list("code", "tier")}
    known = dict(db)
    rows = files.units or []
    name = files.units_file
    seen: dict[str, str] = {}
    for row in rows:
        if row.code in seen:
            problems.append(Problem(name, row.where, "code", f"duplicate code {row.code} (also {seen[row.code]})"))
            row.ok = False
            continue
        seen[row.code] = row.where
        if row.tier is None:  # parse said why; its children are not also reported as orphans
            known[row.code] = _Unit(row.code, 0, row.where)
        else:
            if len(row.code) not in CODE_LENGTHS[row.tier]:
                lengths = " or ".join(str(n) for n in CODE_LENGTHS[row.tier])
                problems.append(
                    Problem(name, row.where, "code", f"a {Tier(row.tier).name.lower()} code has {lengths} digits")
                )
                row.ok = False
            in_db = db.get(row.code)
            if in_db is not None and in_db.tier != row.tier:
                problems.append(
                    Problem(
                        name,
                        row.where,
                        "tier",
                        f"{row.code} is already a {Tier(in_db.tier).name.lower()} in the database, "
                        f"not a {Tier(row.tier).name.lower()}",
                    )
                )
                row.ok = False
            known[row.code] = _Unit(row.code, row.tier, row.where)
    for row in rows:
        if row.tier is None or seen.get(row.code) != row.where:
            continue
        if row.tier == Tier.CITY:
            if row.parent:
                problems.append(Problem(name, row.where, "parent", "a city has no parent"))
                row.ok = False
            continue
        if not row.parent:
            problems.append(Problem(name, row.where, "parent", f"required for a {Tier(row.tier).name.lower()}"))
            row.ok = False
            continue
        parent = known.get(row.parent)
        if parent is None:
            problems.append(Problem(name, row.where, "parent", f"unknown parent {row.parent}"))
            row.ok = False
        elif parent.tier and parent.tier != row.tier - 1:
            problems.append(
                Problem(
                    name,
                    row.where,
                    "parent",
                    f"the parent of a {Tier(row.tier).name.lower()} must be a {Tier(row.tier - 1).name.lower()}; "
                    f"{row.parent} is a {Tier(parent.tier).name.lower()}",
                )
            )
            row.ok = False
    plan.units = sorted((r for r in rows if seen.get(r.code) == r.where), key=lambda r: (r.tier or 0, r.code))
    plan.db_unit_codes = {r.code for r in plan.units if r.code in db}
    _validate_geometry(files, plan.units, problems)
    return known


def _validate_geometry(files: CityFiles, rows: list[UnitRow], problems: list[Problem]) -> None:
    grids = [r for r in rows if r.tier == Tier.GRID and r.geometry is not None]
    if not grids:
        return
    in_file = {r.code for r in rows}
    communities: dict[str, BaseGeometry] = {
        r.code: r.geometry for r in rows if r.tier == Tier.COMMUNITY and r.geometry is not None
    }
    wanted = {g.parent for g in grids} - in_file
    for batch in chunks(sorted(wanted)):
        for code, boundary in OrgUnit.objects.filter(code__in=batch, boundary__isnull=False).values_list(
            "code", "boundary"
        ):
            communities[code] = shape(boundary)
    # The stored grids the file does not replace: codes first, so a second run of a large city
    # does not read (and decode) every boundary it is about to replace anyway.
    stored = OrgUnit.objects.filter(tier=Tier.GRID, is_active=True, boundary__isnull=False)
    other_codes = sorted(set(stored.values_list("code", flat=True)) - in_file)
    others = [
        (code, shape(boundary))
        for batch in chunks(other_codes)
        for code, boundary in stored.filter(code__in=batch).values_list("code", "boundary")
    ]
    check_inside_communities(files.units_file, grids, communities, problems)
    check_overlaps(files.units_file, grids, others, problems)


def _known_types() -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """Type code by code or Chinese name (database first, then the standard list), and the standard ones missing."""
    by_key: dict[str, str] = {}
    stored = list(DepartmentType.objects.values_list("code", "name"))
    for code, name in stored:
        by_key[code.lower()] = code
        by_key[name] = code
    missing = []
    for code, name, description in DEPARTMENT_TYPES:
        if code.lower() not in by_key and name not in by_key:
            by_key[code.lower()] = code
            by_key[name] = code
            missing.append((code, name, description))
    return by_key, missing


def _validate_departments(
    files: CityFiles, plan: Plan, units: dict[str, _Unit], problems: list[Problem]
) -> dict[str, str]:
    """Department codes known after the import, with their unit's code."""
    db = dict(Department.objects.values_list("code", "org_unit__code"))
    db_slots = {
        (unit, type_code): code
        for code, unit, type_code in Department.objects.values_list("code", "org_unit__code", "type__code")
    }
    known = dict(db)
    rows = files.departments or []
    name = files.departments_file
    types, standard_missing = _known_types()
    file_codes = {r.code for r in rows}
    seen: dict[str, str] = {}
    slots: dict[tuple[str, str], str] = {}
    used_types: set[str] = set()
    for row in rows:
        ok = bool(row.name and row.type and row.unit)  # parse reported the empty ones
        if row.code in seen:
            problems.append(Problem(name, row.where, "code", f"duplicate code {row.code} (also {seen[row.code]})"))
            continue
        seen[row.code] = row.where
        known[row.code] = row.unit
        if not DEPARTMENT_CODE.match(row.code) or len(row.code) > 48:
            problems.append(
                Problem(name, row.where, "code", f"{row.code!r}: letters, digits, - and _ only, at most 48")
            )
            ok = False
        if len(row.name) > 64:
            problems.append(Problem(name, row.where, "name", "longer than 64 characters"))
            ok = False
        type_code = types.get(row.type.lower()) or types.get(row.type) if row.type else None
        if row.type and type_code is None:
            problems.append(
                Problem(
                    name,
                    row.where,
                    "type",
                    f"unknown department type {row.type!r} (a code such as huanwei or a name such as 环卫)",
                )
            )
            ok = False
        unit = units.get(row.unit) if row.unit else None
        if row.unit and unit is None:
            if files.units_file not in files.unreadable:
                problems.append(Problem(name, row.where, "unit", f"unknown org unit {row.unit}"))
            ok = False
        elif unit is not None and unit.tier == Tier.GRID:
            problems.append(
                Problem(name, row.where, "unit", f"{row.unit} is a grid; departments belong to a community or above")
            )
            ok = False
        if ok and type_code is not None:
            slot = (row.unit, type_code)
            if slot in slots:
                problems.append(
                    Problem(name, row.where, "type", f"{row.unit} already has a {type_code} department ({slots[slot]})")
                )
                ok = False
            elif db_slots.get(slot, row.code) != row.code and db_slots[slot] not in file_codes:
                problems.append(
                    Problem(
                        name,
                        row.where,
                        "type",
                        f"{row.unit} already has a {type_code} department in the database ({db_slots[slot]})",
                    )
                )
                ok = False
            slots[slot] = row.where
        if ok and type_code is not None:
            plan.departments.append((row, type_code))
            used_types.add(type_code)
    plan.types_to_add = [t for t in standard_missing if t[0] in used_types]
    plan.db_department_codes = {r.code for r, _t in plan.departments if r.code in db}
    return known


def _validate_people(
    files: CityFiles, plan: Plan, units: dict[str, _Unit], departments: dict[str, str], problems: list[Problem]
) -> None:
    rows = files.people or []
    name = files.people_file
    check_username = UnicodeUsernameValidator()
    seen: dict[tuple[str, str, str, str], str] = {}
    profile: dict[str, tuple[str, str, str]] = {}  # username → full name, phone, first row
    for row in rows:
        ok = True
        try:
            check_username(row.username)
            if len(row.username) > 150:
                raise ValidationError("too long")
        except ValidationError:
            problems.append(
                Problem(
                    name, row.where, "username", f"{row.username!r}: letters, digits and @/./+/-/_ only, at most 150"
                )
            )
            ok = False
        if len(row.full_name) > 64:
            problems.append(Problem(name, row.where, "full_name", "longer than 64 characters"))
            ok = False
        if len(row.phone) > 32:
            problems.append(Problem(name, row.where, "phone", "longer than 32 characters"))
            ok = False
        first = profile.setdefault(row.username, (row.full_name, row.phone, row.where))
        if (first[0], first[1]) != (row.full_name, row.phone):
            problems.append(
                Problem(name, row.where, "full_name", f"{row.username} has another name or phone in {first[2]}")
            )
            ok = False
        if row.role not in IMPORTED_ROLES:
            problems.append(
                Problem(
                    name, row.where, "role", f"unknown role {row.role!r} (grid_worker, operator, supervisor, handler)"
                )
            )
            continue
        # A file that could not be read: its codes are not known, but not known to be wrong either.
        blind = {files.units_file, files.departments_file} & files.unreadable
        if row.role == Role.HANDLER:
            ok = _check_handler(name, row, departments, bool(blind), problems) and ok
        else:
            ok = _check_unit_role(name, row, units, files.units_file in blind, problems) and ok
        key = (row.username, row.role, row.unit if row.role != Role.HANDLER else "", row.department)
        if key in seen:
            problems.append(Problem(name, row.where, "username", f"the same role again (also {seen[key]})"))
            continue
        seen[key] = row.where
        if ok:
            plan.people.append(row)
    usernames = sorted({r.username for r in plan.people})
    for batch in chunks(usernames):
        plan.db_usernames.update(User.objects.filter(username__in=batch).values_list("username", flat=True))
        for username, role, unit, department in Membership.objects.filter(user__username__in=batch).values_list(
            "user__username", "role", "org_unit__code", "department__code"
        ):
            plan.db_memberships.add((username, role, unit or "", department or ""))


def _check_handler(
    name: str, row: PersonRow, departments: dict[str, str], blind: bool, problems: list[Problem]
) -> bool:
    if not row.department:
        problems.append(Problem(name, row.where, "department", "required for a handler"))
        return False
    if row.department not in departments:
        if not blind:
            problems.append(Problem(name, row.where, "department", f"unknown department {row.department}"))
        return False
    if row.unit and row.unit != departments[row.department]:
        problems.append(
            Problem(
                name,
                row.where,
                "unit",
                f"a handler belongs to a department; {row.department} is at {departments[row.department]}, "
                f"not {row.unit} (leave unit empty)",
            )
        )
        return False
    return True


def _check_unit_role(name: str, row: PersonRow, units: dict[str, _Unit], blind: bool, problems: list[Problem]) -> bool:
    if row.department:
        problems.append(
            Problem(name, row.where, "department", f"only handlers belong to a department, not a {row.role}")
        )
        return False
    if not row.unit:
        problems.append(Problem(name, row.where, "unit", f"required for a {row.role}"))
        return False
    unit = units.get(row.unit)
    if unit is None:
        if not blind:
            problems.append(Problem(name, row.where, "unit", f"unknown org unit {row.unit}"))
        return False
    if not unit.tier:  # its tier could not be told: reported on the unit's own feature
        return False
    if row.role == Role.GRID_WORKER and unit.tier < Tier.COMMUNITY:
        problems.append(Problem(name, row.where, "unit", f"a grid worker serves a grid or a community, not {row.unit}"))
        return False
    if row.role == Role.OPERATOR and unit.tier == Tier.GRID:
        problems.append(
            Problem(name, row.where, "unit", f"an operator works at a community or above, not grid {row.unit}")
        )
        return False
    return True


def validate(files: CityFiles) -> tuple[Plan, list[Problem]]:
    """Every problem of the files (their own, and against the database); reads only."""
    problems = list(files.problems)
    plan = Plan()
    units = _validate_units(files, plan, problems)
    departments = _validate_departments(files, plan, units, problems)
    _validate_people(files, plan, units, departments, problems)
    order = [files.units_file, files.departments_file, files.people_file]
    problems.sort(key=lambda p: (order.index(p.file) if p.file in order else 3, _number(p.where)))
    return plan, problems


def _number(where: str) -> int:
    tail = where.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0
