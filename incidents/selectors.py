"""Permission-scoped reads of events. Every list, count, detail, export and report starts here.

A user sees the events inside the units where they hold `view_events`
(their whole subtree) and the events assigned to their departments, as
lead or as co-handler. Anything else does not exist for them: lookups
outside scope raise NotFound, never "forbidden", so ids cannot be probed.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from accounts.models import OrgUnit, Tier, User
from accounts.selectors import departments_granting, jurisdiction_q
from core.errors import NotFound
from incidents.models import Attachment, Event, EventRecord


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


# Keys of history data that name another event by its code: a merge names its target
# ("into"), the absorbing event names the duplicate ("duplicate").
EVENT_REFERENCE_KEYS = ("into", "duplicate")


def history_for_user(user: User, records: Iterable[EventRecord]) -> list[EventRecord]:
    """History records as `user` may read them, for every channel (API, event page, admin).

    A record whose data names another event keeps that event's code only when the
    user may see that event too; otherwise the code reads None, so a grid worker
    does not learn the code of an event in the next grid. Each record gets
    `shown_data` (the data to show) and `linked_events` ([(code, pk)] the user may
    open); the stored `data` stays as it is, because the hash chain covers it.
    """
    records = list(records)
    named = {
        r.data[key]
        for r in records
        if isinstance(r.data, dict)
        for key in EVENT_REFERENCE_KEYS
        if isinstance(r.data.get(key), str)
    }
    visible = dict(events_for_user(user).filter(code__in=named).values_list("code", "pk")) if named else {}
    for r in records:
        data = dict(r.data) if isinstance(r.data, dict) else {}
        links: list[tuple[str, int]] = []
        for key in EVENT_REFERENCE_KEYS:
            if key not in data or data[key] is None:
                continue
            if isinstance(data[key], str) and data[key] in visible:
                links.append((data[key], visible[data[key]]))
            else:
                data[key] = None
        # Display-only attributes for the channels, not fields: EventRecord does not declare them.
        r.shown_data = data  # type: ignore[attr-defined]
        r.linked_events = links  # type: ignore[attr-defined]
    return records


def attachment_for_user(
    user: User, attachment_id: int, *, event_pk: int | None = None, event_code: str | None = None
) -> Attachment:
    """One photo of an event the user may see, or NotFound (also when it exists outside their scope)."""
    event = event_for_user(user, pk=event_pk) if event_pk is not None else event_for_user(user, code=event_code)
    try:
        return Attachment.objects.get(pk=attachment_id, event=event)
    except (Attachment.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such photo.") from None


def public_events() -> QuerySet[Event]:
    """What anonymous Open311 readers get: the requests filed through Open311 (the public's own
    reports), shown only through the public fields of interfaces.open311.public (no reporter, no contact,
    no internal reasons). Events filed by staff, sensors or the hotline stay internal."""
    return (
        Event.objects.filter(source="open311").select_related("category", "lead_department").exclude(code__isnull=True)
    )
