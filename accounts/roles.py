"""Which object permissions each role carries.

A role held at an org unit is granted on that unit; because every read and
check resolves permissions over the unit's ancestors, a grant at a district
covers its whole subtree (see accounts.selectors).
"""

from __future__ import annotations

from accounts.models import Role

UNIT_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Role.GRID_WORKER: ("report_event", "verify_event", "view_events"),
    # Operators verify too (核查 by the centre, e.g. from video), so a grid worker's own on-the-spot
    # fix always has someone else to check it.
    Role.OPERATOR: ("report_event", "verify_event", "operate_event", "view_events"),
    Role.SUPERVISOR: ("supervise_event", "view_events"),
    Role.ADMIN: ("report_event", "verify_event", "operate_event", "supervise_event", "view_events"),
}

DEPARTMENT_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Role.HANDLER: ("handle_event", "view_department_events"),
}
