"""Who is acting, in which capacity: the fetch-and-authorize step of every service.

A check answers with an `Acting` (user, role, unit or department) that the
history record stores, or raises NotPermitted. Grants come from the guardian
tables; a grant on a unit covers everything below it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext as _

from accounts.models import Department, OrgUnit, Role, User
from accounts.roles import DEPARTMENT_PERMISSIONS, UNIT_PERMISSIONS
from accounts.selectors import grants_of, has_department_permission
from core.errors import NotPermitted
from incidents.models import Event


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
    """The most specific grant of `codename` on `unit` or above, as an Acting; None if there is none.

    Read from the user's grants (accounts.selectors.grants_of: one query per user object).
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    grants = grants_of(user)
    codes = set(unit.depth_codes)
    granting = [granted for name, granted in grants.units if name == codename and granted.code in codes]
    if not granting:
        return None
    granting_unit = max(granting, key=lambda u: u.tier)
    roles = _roles_with(codename, UNIT_PERMISSIONS)
    role = next((r for r in roles if (granting_unit.pk, r) in grants.roles), "")
    return Acting(user=user, role=role, unit=granting_unit)


def department_grant(user: User | None, codename: str, department: Department | None) -> Acting | None:
    if department is None or user is None or not user.is_authenticated or not user.is_active:
        return None
    if not has_department_permission(user, codename, department):
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


# --- who may: one object per kind of actor, shared by the services (which enforce it) and the
# operations table (which shows it, draws the action forms and writes the permission docs).


@dataclass(frozen=True)
class Who:
    """Who may perform an operation on an event: a grant on a unit of the event, or on its department.

    `unit` names the event's unit the grant is checked on ("owner": the tier that owns the event
    now; "place": its grid); `departments` the event's departments ("lead", or "lead_or_co").
    """

    description: str
    unit_codename: str = ""
    unit: str = ""  # "owner" | "place"
    department_codename: str = ""
    departments: str = ""  # "lead" | "lead_or_co"

    def acting(self, user: User | AnonymousUser | None, event: Event) -> Acting | None:
        """The capacity in which `user` may act, or None (no exception: for showing forms)."""
        if user is None:
            return None
        if self.unit_codename:
            unit = event.owner_unit if self.unit == "owner" else event.grid
            if acting := unit_grant(user, self.unit_codename, unit):
                return acting
        if self.department_codename:
            departments = [event.lead_department]
            if self.departments == "lead_or_co":
                departments += list(event.co_departments.all())
            for department in departments:
                if acting := department_grant(user, self.department_codename, department):
                    return acting
        return None

    def require(self, user: User | AnonymousUser | None, event: Event, what: str) -> Acting:
        acting = self.acting(user, event)
        if acting is None:
            if not self.department_codename:
                unit = event.owner_unit if self.unit == "owner" else event.grid
                raise NotPermitted(
                    _("You may not %(what)s here: it needs a role in %(unit)s or above.")
                    % {"what": what, "unit": unit.name}
                )
            raise NotPermitted(_("You may not %(what)s: only the handling department may.") % {"what": what})
        return acting


OPERATOR = Who("operator of the tier that owns the event, or above", "operate_event", "owner")
VERIFIER = Who("grid worker or operator of the place, or above", "verify_event", "place")
SUPERVISOR = Who("supervisor of the place, or above", "supervise_event", "place")
LEAD_HANDLER = Who(
    "handler of the lead department, or its system", department_codename="handle_event", departments="lead"
)
HANDLER = Who(
    "handler of the lead or a co-handling department", department_codename="handle_event", departments="lead_or_co"
)
SUPERVISOR_OR_LEAD = Who(
    "supervisor of the place, or the lead department",
    "supervise_event",
    "place",
    department_codename="handle_event",
    departments="lead",
)
