"""Write operations on people and their roles."""

from __future__ import annotations

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
