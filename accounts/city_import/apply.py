"""Writing a validated Plan: org units tier by tier, then departments, then people (one transaction, the caller's).

New units are written with bulk_create in batches and their materialized
`path` computed in memory from the parent's, so 100,000 grids take minutes,
not hours; a stored unit is updated (one UPDATE) only when the file changes it,
so a second run of the same files writes next to nothing; a unit the file moves to another parent is saved
singly, because OrgUnit.save rewrites its subtree's and its events' paths.
Memberships go through accounts.services.memberships_grant_many, which adds
the guardian grants they imply in the same bulk.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from accounts.city_import.records import ImportReport, UnitRow
from accounts.city_import.validate import Plan, chunks
from accounts.models import Department, DepartmentType, Membership, OrgUnit, Role, Tier, User
from accounts.services import memberships_grant_many
from accounts.signals import org_units_bulk_changed

BATCH = 2000


class Bar(Protocol):
    def update(self, n: int) -> object: ...

    def close(self) -> None: ...


Progress = Callable[[str, int], Bar]


class _Silent:
    def update(self, n: int) -> object:
        return None

    def close(self) -> None:
        return None


def silent(_label: str, _total: int) -> Bar:
    return _Silent()


def _lookup(codes: set[str]) -> dict[str, tuple[int, str]]:
    """Id and path of the given unit codes that are in the database."""
    found: dict[str, tuple[int, str]] = {}
    for batch in chunks(sorted(codes)):
        for code, pk, path in OrgUnit.objects.filter(code__in=batch).values_list("code", "id", "path"):
            found[code] = (pk, path)
    return found


def _stored(codes: set[str]) -> dict[str, tuple[str, int, int | None, Any]]:
    """Name, tier, parent id and boundary of the given units that are stored: to update only what changed."""
    found: dict[str, tuple[str, int, int | None, Any]] = {}
    for batch in chunks(sorted(codes)):
        for code, name, tier, parent_id, boundary in OrgUnit.objects.filter(code__in=batch).values_list(
            "code", "name", "tier", "parent_id", "boundary"
        ):
            found[code] = (name, tier, parent_id, boundary)
    return found


def _apply_units(rows: list[UnitRow], progress: Progress) -> dict[str, tuple[int, str]]:
    in_file = {r.code for r in rows}
    known = _lookup(in_file | {r.parent for r in rows if r.parent})
    existing = {code: known[code] for code in in_file if code in known}
    stored = _stored(set(existing))
    bar = progress("org units", len(rows))
    for tier in Tier.values:
        layer = [r for r in rows if r.tier == tier]
        new: list[OrgUnit] = []
        moved: list[UnitRow] = []
        for r in layer:
            parent_id, parent_path = known[r.parent] if r.parent else (None, "")
            path = f"{parent_path}{r.code}/"
            if r.code in existing:
                pk, old_path = existing[r.code]
                if old_path != path:
                    moved.append(r)
                elif stored[r.code] != (r.name, tier, parent_id, r.boundary):
                    # One UPDATE per changed row: bulk_update's CASE per field costs ~10 ms a row
                    # to build and run at this size, and a second run of the same files changes nothing.
                    OrgUnit.objects.filter(pk=pk).update(
                        name=r.name, tier=tier, parent_id=parent_id, boundary=r.boundary
                    )
                known[r.code] = (pk, path)
                bar.update(1)
            else:
                new.append(
                    OrgUnit(code=r.code, name=r.name, tier=tier, parent_id=parent_id, path=path, boundary=r.boundary)
                )
        for batch in chunks(new, BATCH):
            OrgUnit.objects.bulk_create(batch)
            bar.update(len(batch))
        if any(u.pk is None for u in new):  # a backend that does not return ids from a bulk insert
            known.update(_lookup({u.code for u in new}))
        else:
            known.update({u.code: (u.pk, u.path) for u in new})
        for r in moved:
            unit = OrgUnit.objects.get(code=r.code)
            unit.name, unit.tier, unit.boundary = r.name, tier, r.boundary
            unit.parent = OrgUnit.objects.get(code=r.parent) if r.parent else None
            unit.save()  # rewrites the subtree's paths and its events' area paths
            known[r.code] = (unit.pk, unit.path)
            bar.update(1)
    bar.close()
    return known


def _apply_departments(plan: Plan, report: ImportReport) -> None:
    for code, name, description in plan.types_to_add:
        DepartmentType.objects.create(code=code, name=name, description=description)
        report.department_types_added.append(code)
    types = dict(DepartmentType.objects.values_list("code", "id"))
    units = _lookup({row.unit for row, _t in plan.departments})
    existing: dict[str, tuple[str, int, int]] = {}
    for batch in chunks(sorted(plan.db_department_codes)):
        for code, name, type_id, unit_id in Department.objects.filter(code__in=batch).values_list(
            "code", "name", "type_id", "org_unit_id"
        ):
            existing[code] = (name, type_id, unit_id)
    new = []
    for row, type_code in plan.departments:
        values = {"name": row.name, "type_id": types[type_code], "org_unit_id": units[row.unit][0]}
        if row.code not in existing:
            new.append(Department(code=row.code, **values))
        elif existing[row.code] != (values["name"], values["type_id"], values["org_unit_id"]):
            Department.objects.filter(code=row.code).update(**values)
    Department.objects.bulk_create(new, batch_size=BATCH)


def _apply_people(plan: Plan, report: ImportReport, progress: Progress) -> None:
    users: dict[str, User] = {}
    for batch in chunks(sorted(plan.db_usernames)):
        users.update((u.username, u) for u in User.objects.filter(username__in=batch))
    changed: dict[str, User] = {}
    for row in plan.people:
        user = users.get(row.username)
        if user is None:
            user = User(username=row.username)
            user.set_unusable_password()  # the report tells how to set one: changepassword or the admin
            users[row.username] = user
        elif (user.display_name, user.phone) != (row.full_name, row.phone):
            changed[row.username] = user
        user.display_name, user.phone = row.full_name, row.phone
    new = [u for u in users.values() if u.pk is None]
    User.objects.bulk_create(new, batch_size=BATCH)
    if any(u.pk is None for u in new):
        for batch in chunks([u.username for u in new]):
            for u in User.objects.filter(username__in=batch):
                users[u.username] = u
    for user in changed.values():
        User.objects.filter(pk=user.pk).update(display_name=user.display_name, phone=user.phone)
    departments: dict[str, Department] = {}
    for batch in chunks(sorted({r.department for r in plan.people if r.department})):
        departments.update((d.code, d) for d in Department.objects.filter(code__in=batch))
    units: dict[str, OrgUnit] = {}
    for batch in chunks(sorted({r.unit for r in plan.people if r.unit and r.role != Role.HANDLER})):
        units.update((u.code, u) for u in OrgUnit.objects.filter(code__in=batch))
    memberships = [
        Membership(user=users[r.username], role=r.role, department=departments[r.department])
        if r.role == Role.HANDLER
        else Membership(user=users[r.username], role=r.role, org_unit=units[r.unit])
        for r in plan.people
    ]
    bar = progress("memberships", len(memberships))
    for group in chunks(memberships, BATCH):
        memberships_grant_many(group)
        bar.update(len(group))
    bar.close()


def apply(plan: Plan, report: ImportReport, progress: Progress = silent) -> None:
    """Write the plan; the caller holds the transaction (all or nothing)."""
    if plan.units:
        _apply_units(plan.units, progress)
    if plan.departments:
        _apply_departments(plan, report)
    if plan.units or plan.departments:
        org_units_bulk_changed.send(sender=OrgUnit)
    if plan.people:
        _apply_people(plan, report, progress)
