"""Reporter contact details: masked for whoever does not need them; revealing is logged.

Handlers and grid workers see 138****5678 and 王**; operators and
supervisors responsible for the place may reveal the full value, and every
reveal is recorded. A reporter always sees their own details.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import units_granting
from core.errors import NotPermitted
from incidents.models import ContactReveal, Event
from incidents.permissions import unit_grant
from incidents.selectors import event_for_user


def mask_phone(phone: str) -> str:
    digits = phone.strip()
    if len(digits) <= 4:
        return "*" * len(digits)
    if len(digits) >= 11:
        return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"
    return f"{'*' * (len(digits) - 4)}{digits[-4:]}"


def mask_name(name: str) -> str:
    name = name.strip()
    return f"{name[0]}{'*' * (len(name) - 1)}" if name else ""


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str
    masked: bool
    can_reveal: bool


def may_reveal(user: User, event: Event) -> bool:
    return any(unit_grant(user, codename, event.grid) for codename in ("operate_event", "supervise_event"))


def reveal_roots(user: User) -> list[str]:
    """Paths of the units where the user may reveal contacts; compute once per request for lists."""

    return [u.path for codename in ("operate_event", "supervise_event") for u in units_granting(user, codename)]


def contact_for(user: User, event: Event, roots: list[str] | None = None) -> Contact:
    """What this user is shown of the reporter's contact details, without revealing anything.

    Pass `roots` (from reveal_roots) when rendering many events: no query per event.
    """
    own = event.reporter_id is not None and event.reporter_id == user.pk and event.source != "hotline_12345"
    if own:
        return Contact(event.reporter_name, event.reporter_phone, masked=False, can_reveal=False)
    can = any(event.area_path.startswith(root) for root in roots) if roots is not None else may_reveal(user, event)
    return Contact(mask_name(event.reporter_name), mask_phone(event.reporter_phone), masked=True, can_reveal=can)


def contact_reveal(*, user: User, event_id: int, reason: str = "") -> Contact:
    """Show the full contact details to someone entitled to them, and log that they looked."""
    event = event_for_user(user, pk=event_id)
    if not may_reveal(user, event):
        raise NotPermitted(
            _("Only operators and supervisors responsible for this place may see the reporter's contact.")
        )
    ContactReveal.objects.create(event=event, user=user, reason=(reason or "")[:200])
    return Contact(event.reporter_name, event.reporter_phone, masked=False, can_reveal=True)
