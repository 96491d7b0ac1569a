"""Small helpers shared by the web views."""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from core.errors import InvalidInput, ServiceError
from incidents.models import Attachment, Event

STALE_PAGE = _("This page does not say which version of the event you saw; reload it and try again.")


def safe_next(request: HttpRequest) -> str | None:
    """The POSTed `next` when it stays on this site, else None (no open redirects)."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


def seen_version(request: HttpRequest, field: str = "expected_version") -> int | None:
    """The event version the page showed (every action form carries it), or None if absent.

    Passed to the service as `expected_version`, so an action taken on a page someone else
    has since changed is refused as a conflict instead of overwriting their work.
    """
    try:
        value = int(request.POST.get(field, ""))
    except ValueError:
        return None
    return value if value >= 1 else None


def with_first_photo(events: Iterable[Event]) -> list[Event]:
    """The shown events, each with `first_photo_id` (its earliest photo, or None) for the lists'
    thumbnail column: one query for the whole page, not one per row. The events are already
    scoped to the viewer, so their photos are too (the thumbnail route checks again)."""
    events = list(events)
    first: dict[int, int] = {}
    rows = Attachment.objects.filter(event_id__in=[e.pk for e in events]).order_by("event_id", "created_at", "id")
    for event_id, pk in rows.values_list("event_id", "pk"):
        first.setdefault(event_id, pk)
    for event in events:
        event.first_photo_id = first.get(event.pk)  # type: ignore[attr-defined]
    return events


def said(exc: ServiceError) -> str:
    """A service error as a person reads it: an InvalidInput's messages without the field names
    its `message` carries for logs and the API ("note: 请填写原因" reads "请填写原因")."""
    if isinstance(exc, InvalidInput):
        return " ".join(str(m) for messages in exc.errors.values() for m in messages)
    return exc.message
