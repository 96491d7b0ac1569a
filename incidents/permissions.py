"""Who is acting, in which capacity: the fetch-and-authorize step of every service.

A check answers with an `Acting` (user, role, unit or department) that the
history record stores, or raises NotPermitted. Grants come from the guardian
tables; a grant on a unit covers everything below it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

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
from core.errors import NotPermitted


@dataclass(frozen=True)
class Acting:
    user: User | None
    role: str
    unit: OrgUnit | None = None
    department: Department | None = None

    @property
    def is_system(self) -> bool:
        return self.user is None


# Automation (the SLA sweep, integrations without a person) acts as the system.
SYSTEM = Acting(user=None, role="system")

_ROLE_ORDER = [Role.GRID_WORKER, Role.OPERATOR, Role.HANDLER, Role.SUPERVISOR, Role.ADMIN]


def _roles_with(codename: str, table: dict[str, tuple[str, ...]]) -> list[str]:
    return [role for role in _ROLE_ORDER if codename in table.get(role, ())]


def unit_grant(user: User, codename: str, unit: OrgUnit) -> Acting | None:
    """The most specific grant of `codename` on `unit` or above, as an Acting; None if there is none."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    grant = (
        OrgUnitUserObjectPermission.objects.filter(
            user=user, permission__codename=codename, content_object__code__in=unit.depth_codes
        )
        .select_related("content_object")
        .order_by("-content_object__tier")
        .first()
    )
    if grant is None:
        return None
    granting_unit = grant.content_object
    roles = _roles_with(codename, UNIT_PERMISSIONS)
    held = set(
        Membership.objects.filter(user=user, org_unit=granting_unit, role__in=roles).values_list("role", flat=True)
    )
    role = next((r for r in roles if r in held), "")
    return Acting(user=user, role=role, unit=granting_unit)


def department_grant(user: User, codename: str, department: Department | None) -> Acting | None:
    if department is None or user is None or not user.is_authenticated or not user.is_active:
        return None
    if not DepartmentUserObjectPermission.objects.filter(
        user=user, permission__codename=codename, content_object=department
    ).exists():
        return None
    roles = _roles_with(codename, DEPARTMENT_PERMISSIONS)
    return Acting(user=user, role=roles[0] if roles else "", department=department)


def require_unit(user: User, codename: str, unit: OrgUnit, what: str) -> Acting:
    acting = unit_grant(user, codename, unit)
    if acting is None:
        raise NotPermitted(
            _("You may not %(what)s here: it needs a role in %(unit)s or above.") % {"what": what, "unit": unit.name}
        )
    return acting


def require_department(user: User, codename: str, department: Department | None, what: str) -> Acting:
    acting = department_grant(user, codename, department)
    if acting is None:
        raise NotPermitted(_("You may not %(what)s: only the handling department may.") % {"what": what})
    return acting


def require_handler(
    actor: User | None, department: Department | None, what: str, acting: Acting | None = None
) -> Acting:
    """A handler of `department`, or that department's own system (pre-authenticated `acting`)."""
    if acting is not None:
        if acting.department is None or department is None or acting.department.pk != department.pk:
            raise NotPermitted(_("You may not %(what)s: only the handling department may.") % {"what": what})
        return acting
    return require_department(actor, "handle_event", department, what)
