"""Write operations on people and their roles."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from guardian.shortcuts import assign_perm, remove_perm

from accounts.models import (
    Department,
    DepartmentUserObjectPermission,
    Membership,
    OrgUnit,
    OrgUnitUserObjectPermission,
    Role,
    User,
)
from accounts.roles import DEPARTMENT_PERMISSIONS, UNIT_PERMISSIONS
from accounts.selectors import forget_grants


def _permissions_for(membership: Membership) -> tuple[str, ...]:
    if membership.department_id:
        return DEPARTMENT_PERMISSIONS.get(membership.role, ())
    return UNIT_PERMISSIONS.get(membership.role, ())


def sync_user_permissions(user: User) -> None:
    """Make the user's guardian grants exactly what their memberships imply."""
    wanted_units: dict[int, set[str]] = {}
    wanted_departments: dict[int, set[str]] = {}
    for membership in user.memberships.all():
        perms = set(_permissions_for(membership))
        if membership.department_id:
            wanted_departments.setdefault(membership.department_id, set()).update(perms)
        else:
            wanted_units.setdefault(membership.org_unit_id, set()).update(perms)

    for model, wanted, target in (
        (OrgUnitUserObjectPermission, wanted_units, OrgUnit),
        (DepartmentUserObjectPermission, wanted_departments, Department),
    ):
        existing: dict[int, set[str]] = {}
        for obj_id, codename in model.objects.filter(user=user).values_list(
            "content_object_id", "permission__codename"
        ):
            existing.setdefault(obj_id, set()).add(codename)
        for obj_id in set(existing) | set(wanted):
            have, want = existing.get(obj_id, set()), wanted.get(obj_id, set())
            if have == want:
                continue
            obj = target.objects.get(pk=obj_id)
            for codename in want - have:
                assign_perm(codename, user, obj)
            for codename in have - want:
                remove_perm(codename, user, obj)

    forget_grants(user)


def membership_saved(membership: Membership, previous_user_id: int | None = None) -> None:
    """After a membership was saved: its user's grants, and those of the user it was taken from.

    Moving a membership to another person (an admin correcting who holds a role)
    must take the grants away from the previous holder too, or they keep seeing
    and acting on the unit's events.
    """
    sync_user_permissions(membership.user)
    if previous_user_id is not None and previous_user_id != membership.user_id:
        previous = User.objects.filter(pk=previous_user_id).first()
        if previous is not None:
            sync_user_permissions(previous)


@transaction.atomic
def membership_grant(
    *, user: User, role: Role | str, org_unit: OrgUnit | None = None, department: Department | None = None
) -> Membership:
    """Give a user a role at an org unit (or, for handlers, in a department); idempotent."""
    membership = Membership.objects.filter(user=user, role=role, org_unit=org_unit, department=department).first()
    if membership is None:
        membership = Membership(user=user, role=role, org_unit=org_unit, department=department)
        membership.full_clean()
        membership.save()
    sync_user_permissions(user)
    return membership


@transaction.atomic
def membership_revoke(*, membership: Membership) -> None:
    user = membership.user
    membership.delete()
    sync_user_permissions(user)


def _permission_ids(model: type[OrgUnit] | type[Department]) -> dict[str, int]:
    content_type = ContentType.objects.get_for_model(model)
    return dict(Permission.objects.filter(content_type=content_type).values_list("codename", "id"))


def _key(m: Membership) -> tuple[int, str, int | None, int | None]:
    return (m.user_id, m.role, m.org_unit_id, m.department_id)


@transaction.atomic
def memberships_grant_many(memberships: Sequence[Membership], batch_size: int = 1000) -> int:
    """Give many roles at once (the city import): the memberships not yet held, and the guardian grants they imply.

    The bulk form of membership_grant for thousands of people: memberships only
    added, never taken away, so the grants to add are exactly those the new
    memberships imply and are not held yet (what sync_user_permissions would
    add), written with bulk_create instead of one assign_perm each. Each
    membership must already obey Membership.clean (the caller validated it).
    Returns how many memberships were added.
    """
    user_ids = sorted({m.user_id for m in memberships})
    held: set[tuple[int, str, int | None, int | None]] = set()
    unit_grants: set[tuple[int, int, int]] = set()
    department_grants: set[tuple[int, int, int]] = set()
    for start in range(0, len(user_ids), batch_size):
        batch = user_ids[start : start + batch_size]
        held.update(
            Membership.objects.filter(user_id__in=batch).values_list("user_id", "role", "org_unit_id", "department_id")
        )
        unit_grants.update(
            OrgUnitUserObjectPermission.objects.filter(user_id__in=batch).values_list(
                "user_id", "permission_id", "content_object_id"
            )
        )
        department_grants.update(
            DepartmentUserObjectPermission.objects.filter(user_id__in=batch).values_list(
                "user_id", "permission_id", "content_object_id"
            )
        )
    new: dict[tuple[int, str, int | None, int | None], Membership] = {}
    for membership in memberships:
        if _key(membership) not in held:
            new.setdefault(_key(membership), membership)
    Membership.objects.bulk_create(list(new.values()), batch_size=batch_size)
    unit_perms, department_perms = _permission_ids(OrgUnit), _permission_ids(Department)
    add_units: dict[tuple[int, int, int], OrgUnitUserObjectPermission] = {}
    add_departments: dict[tuple[int, int, int], DepartmentUserObjectPermission] = {}
    for m in new.values():
        for codename in _permissions_for(m):
            if m.department_id is not None:
                key = (m.user_id, department_perms[codename], m.department_id)
                if key not in department_grants:
                    add_departments[key] = DepartmentUserObjectPermission(
                        user_id=key[0], permission_id=key[1], content_object_id=key[2]
                    )
            elif m.org_unit_id is not None:
                key = (m.user_id, unit_perms[codename], m.org_unit_id)
                if key not in unit_grants:
                    add_units[key] = OrgUnitUserObjectPermission(
                        user_id=key[0], permission_id=key[1], content_object_id=key[2]
                    )
    OrgUnitUserObjectPermission.objects.bulk_create(list(add_units.values()), batch_size=batch_size)
    DepartmentUserObjectPermission.objects.bulk_create(list(add_departments.values()), batch_size=batch_size)
    for membership in new.values():
        forget_grants(membership.user)
    return len(new)
