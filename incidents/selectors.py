"""Permission-scoped reads of events. Every list, count, detail, export and report starts here.

A user sees the events inside the units where they hold `view_events`
(their whole subtree) and the events assigned to their departments, as
lead or as co-handler. Anything else does not exist for them: lookups
outside scope raise NotFound, never "forbidden", so ids cannot be probed.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import OrgUnit, Tier, User
from accounts.selectors import departments_granting, jurisdiction_q

from .errors import NotFound
from .models import Event


def event_scope_q(user: User) -> Q:
    """The Q that limits events to what `user` may see (matches nothing for outsiders)."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    q = jurisdiction_q(user, "view_events", path_field="area_path")
    if q == Q():
        # The whole city. (Q() | X is X in Django: adding the department terms below would
        # narrow a city-wide view to one department's events.)
        return q
    department_ids = [d.pk for d in departments_granting(user, "view_department_events")]
    if department_ids:
        co = Event.co_departments.through.objects.filter(department_id__in=department_ids).values("event_id")
        q |= Q(lead_department_id__in=department_ids) | Q(pk__in=co)
    return q


def owned_within_q(user: User, codename: str) -> Q:
    """Events owned by a unit inside the user's `codename` jurisdiction (its operator queue).

    Owners are streets and the units above them (intake hands events to the
    street, escalation moves them up), so the owners are a short id list. An id
    list lets PostgreSQL walk the needs-action indexes; a join on the owner's
    path, estimated at one row, made it read every waiting event of the street.
    """
    scope = jurisdiction_q(user, codename)
    if scope == Q():  # a grant at the only top unit: every owner
        return Q()
    owners = OrgUnit.objects.filter(scope, tier__lte=Tier.STREET).values_list("id", flat=True)
    return Q(owner_unit_id__in=list(owners))


def events_for_user(user: User, qs: QuerySet[Event] | None = None) -> QuerySet[Event]:
    return (qs if qs is not None else Event.objects.all()).filter(event_scope_q(user))


def event_for_user(user: User, *, pk: int | None = None, code: str | None = None) -> Event:
    """One event the user may see, or NotFound (also for events that exist outside scope)."""
    lookup = {"pk": pk} if pk is not None else {"code": code}
    try:
        return (
            events_for_user(user)
            .select_related("category", "grid", "owner_unit", "lead_department", "reporter")
            .get(**lookup)
        )
    except (Event.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such event.") from None


def public_events() -> QuerySet[Event]:
    """What anonymous Open311 readers get: the requests filed through Open311 (the public's own
    reports), shown only through the public fields of incidents.open311 (no reporter, no contact,
    no internal reasons). Events filed by staff, sensors or the hotline stay internal."""
    return (
        Event.objects.filter(source="open311").select_related("category", "lead_department").exclude(code__isnull=True)
    )
