"""Permission-aware reads about org units and departments.

A grant at a unit covers its subtree, so "may this user X in unit U" is
"does the user hold X on U or on any ancestor of U": one query over the
direct foreign-key guardian table with the ancestor codes from U's path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db.models import Q
from django.utils.functional import LazyObject, empty

from accounts.models import (
    Department,
    DepartmentUserObjectPermission,
    OrgUnit,
    OrgUnitQuerySet,
    OrgUnitUserObjectPermission,
    User,
)

T = TypeVar("T")
Granted = TypeVar("Granted", OrgUnit, Department)


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

    Read from the database (once per request), not from a process copy: this
    decides what a user may see, and must not lag behind a second city's creation.
    """
    return _remembered(user, ("single-root", ""), lambda: OrgUnit.objects.filter(parent__isnull=True)[:2].count() == 1)


def forget_grants(user: User) -> None:
    _memo_owner(user).__dict__.pop("_grants_memo", None)


def _granting(model: type[Granted], grants: str, user: User, codename: str) -> list[Granted]:
    """Objects of `model` on which the user holds `codename` directly, through the `grants` table."""
    if not user.is_authenticated or not user.is_active:
        return []
    return _remembered(
        user,
        (grants, codename),
        lambda: list(
            model.objects.filter(**{f"{grants}__user": user, f"{grants}__permission__codename": codename}).distinct()
        ),
    )


def units_granting(user: User, codename: str) -> list[OrgUnit]:
    """The org units on which the user holds `codename` directly (the roots of their jurisdiction)."""
    return _granting(OrgUnit, "orgunituserobjectpermission", user, codename)


def departments_granting(user: User, codename: str) -> list[Department]:
    return _granting(Department, "departmentuserobjectpermission", user, codename)


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
    if not user.is_authenticated or not user.is_active:
        return False
    return OrgUnitUserObjectPermission.objects.filter(
        user=user, permission__codename=codename, content_object__code__in=unit.depth_codes
    ).exists()


def has_department_permission(user: User, codename: str, department: Department) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return DepartmentUserObjectPermission.objects.filter(
        user=user, permission__codename=codename, content_object=department
    ).exists()


def units_within(unit: OrgUnit, include_self: bool = False) -> OrgUnitQuerySet:
    """A unit's subtree (streets, communities, grids …) in one indexed query."""
    return OrgUnit.objects.within(unit, include_self=include_self)
