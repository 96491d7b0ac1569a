"""Permission-aware reads about org units and departments.

A grant at a unit covers its subtree, so "may this user X in unit U" is
"does the user hold X on U or on any ancestor of U": one query over the
direct foreign-key guardian table with the ancestor codes from U's path.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from django.db import connections, router
from django.db.models import Q
from django.utils.functional import LazyObject, empty

from accounts.models import (
    Department,
    DepartmentUserObjectPermission,
    Membership,
    OrgUnit,
    OrgUnitQuerySet,
    OrgUnitUserObjectPermission,
    User,
)
from core.rows import from_row

T = TypeVar("T")


def _memo_owner(user: User) -> User:
    """The real user behind request.user's lazy wrapper, so forget_grants(user) reaches it."""
    if isinstance(user, LazyObject):
        if user._wrapped is empty:
            user._setup()
        return user._wrapped
    return user


def _remembered(user: User, key: tuple[str, str], load: Callable[[], T]) -> T:
    """Grants looked up once per user object: a request asks the same question three or four
    times (scope, permission check, contact masking). `forget_grants` clears it."""
    memo = _memo_owner(user).__dict__.setdefault("_grants_memo", {})
    if key not in memo:
        memo[key] = load()
    return memo[key]


def _single_root(user: User) -> bool:
    """One city per deployment, as usual: then the top unit's subtree is every unit.

    Read from the database with the grants (once per request), not from a process copy: this
    decides what a user may see, and must not lag behind a second city's creation.
    """
    return grants_of(user).single_root


def forget_grants(user: User) -> None:
    _memo_owner(user).__dict__.pop("_grants_memo", None)


@dataclass(frozen=True)
class Grants:
    """Everything a user holds, from one query (see `grants_of`).

    `units`: (codename, unit) for each direct grant on an org unit (the unit without its boundary);
    `departments`: codename → ids of the departments granting it; `roles`: (unit id, role) of the
    user's unit memberships, which name the capacity a grant is used in; `single_root`: the city
    has exactly one top unit (`_single_root`).
    """

    units: tuple[tuple[str, OrgUnit], ...] = ()
    departments: dict[str, frozenset[int]] = field(default_factory=dict)
    roles: frozenset[tuple[int, str]] = frozenset()
    single_root: bool = False


_UNIT_COLUMNS = ("id", "code", "name", "tier", "parent_id", "path", "is_active")


@functools.cache
def _grants_sql() -> str:
    """One UNION ALL over the two guardian tables and the memberships, written out: the ORM's
    compilation of the same three querysets cost more than the query (#20).

    Each part yields (kind, codename or role, object id, then the unit's columns: NULL where
    the part has no unit of its own). Table names from the models, so a renamed table follows.
    """
    unit_table = OrgUnit._meta.db_table
    columns = ", ".join(f"u.{name}" for name in _UNIT_COLUMNS)
    nulls = ", ".join("NULL" for _ in _UNIT_COLUMNS)
    permission = "auth_permission"
    return (
        f"SELECT 'u', p.codename, g.content_object_id, {columns} "  # noqa: S608 - model table names and constants; the user id is a parameter
        f"FROM {OrgUnitUserObjectPermission._meta.db_table} g "
        f"JOIN {permission} p ON p.id = g.permission_id JOIN {unit_table} u ON u.id = g.content_object_id "
        "WHERE g.user_id = %s "
        f"UNION ALL SELECT 'd', p.codename, g.content_object_id, {nulls} "
        f"FROM {DepartmentUserObjectPermission._meta.db_table} g JOIN {permission} p ON p.id = g.permission_id "
        "WHERE g.user_id = %s "
        f"UNION ALL SELECT 'm', m.role, m.org_unit_id, {nulls} FROM {Membership._meta.db_table} m "
        "WHERE m.user_id = %s AND m.org_unit_id IS NOT NULL "
        # How many top units (0, 1 or 2: "more than one"): `_single_root`, in the same round trip.
        f"UNION ALL SELECT 'r', '', (SELECT COUNT(*) FROM (SELECT 1 FROM {unit_table} WHERE parent_id IS NULL "
        f"LIMIT 2) AS roots), {nulls}"
    )


def _load_grants(user: User) -> Grants:
    """The user's grants and memberships in one statement (`_grants_sql`)."""
    units: dict[tuple[str, int], OrgUnit] = {}
    built: dict[int, OrgUnit] = {}  # one instance per unit, however many codenames it grants
    departments: dict[str, set[int]] = {}
    roles: set[tuple[int, str]] = set()
    single_root = False
    db = router.db_for_read(OrgUnitUserObjectPermission)
    with connections[db].cursor() as cursor:
        cursor.execute(_grants_sql(), [user.pk, user.pk, user.pk])
        rows = cursor.fetchall()
    for kind, name, object_id, *unit_values in rows:
        if kind == "u":
            # The boundary stays deferred (loaded if someone asks), not silently empty.
            unit = built.get(object_id)
            if unit is None:
                unit = built[object_id] = from_row(OrgUnit, db, _UNIT_COLUMNS, unit_values)
            units[(name, unit.pk)] = unit
        elif kind == "d":
            departments.setdefault(name, set()).add(object_id)
        elif kind == "m":
            roles.add((object_id, name))
        else:
            single_root = object_id == 1
    return Grants(
        units=tuple((codename, unit) for (codename, _pk), unit in sorted(units.items(), key=lambda kv: kv[0][1])),
        departments={codename: frozenset(ids) for codename, ids in departments.items()},
        roles=frozenset(roles),
        single_root=single_root,
    )


def grants_of(user: User) -> Grants:
    """The user's grants and roles, loaded once per user object (`forget_grants` clears them)."""
    if not user.is_authenticated or not user.is_active:
        return Grants()
    return _remembered(user, ("grants", ""), lambda: _load_grants(user))


def units_granting(user: User, codename: str) -> list[OrgUnit]:
    """The org units on which the user holds `codename` directly (the roots of their jurisdiction)."""
    return [unit for name, unit in grants_of(user).units if name == codename]


def departments_granting(user: User, codename: str) -> list[Department]:
    """The departments on which the user holds `codename` directly (none: no query)."""
    ids = grants_of(user).departments.get(codename)
    if not ids:
        return []
    return _remembered(user, ("departments", codename), lambda: list(Department.objects.filter(pk__in=ids)))


def jurisdiction_q(user: User, codename: str, path_field: str = "path") -> Q:
    """A Q matching rows whose org-unit path lies inside a unit granting `codename`.

    Returns a Q that matches nothing when the user holds no such grant.
    """
    roots = units_granting(user, codename)
    if not roots:
        return Q(pk__in=[])
    if any(unit.parent_id is None for unit in roots) and _single_root(user):
        # A grant at the city, the only top unit, covers every row: no path test, so the
        # planner can walk a queue index in order instead of joining every row's unit first.
        return Q()
    q = Q()
    for unit in roots:
        q |= Q(**{f"{path_field}__startswith": unit.path})
    return q


def has_unit_permission(user: User, codename: str, unit: OrgUnit) -> bool:
    """True when the user holds `codename` on `unit` or on any unit above it."""
    codes = set(unit.depth_codes)
    return any(name == codename and granted.code in codes for name, granted in grants_of(user).units)


def has_department_permission(user: User, codename: str, department: Department) -> bool:
    return department.pk in grants_of(user).departments.get(codename, frozenset())


def units_within(unit: OrgUnit, include_self: bool = False) -> OrgUnitQuerySet:
    """A unit's subtree (streets, communities, grids …) in one indexed query."""
    return OrgUnit.objects.within(unit, include_self=include_self)
