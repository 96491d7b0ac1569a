"""The supervisor's pages (值班长/督查): the dashboard (approvals waiting, overdue events), the scoped
event list and search with the "about to be overdue" and "overdue" filters, and urge (督办) from both."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.selectors import jurisdiction_q, units_granting
from core.errors import ServiceError
from dispatch.sla import dispatch_missed_q, due_soon_q, overdue_q
from incidents.models import OPEN_STATES, ApprovalRequest, Event, RequestStatus
from incidents.selectors import event_for_user, events_for_user
from interfaces.web.common import STALE_PAGE, safe_next, said, seen_version
from interfaces.web.maps import allow_tiles, event_points, map_data, scoped_units
from interfaces.web.queues import by_due, filtered, queue_page
from operations import services

OVERDUE = "overdue"
DUE_SOON = "soon"


class DueFilterForm(forms.Form):
    due = forms.ChoiceField(
        label=gettext_lazy("time limit"),
        required=False,
        choices=[
            ("", gettext_lazy("all open")),
            (DUE_SOON, gettext_lazy("about to be overdue")),
            (OVERDUE, gettext_lazy("overdue")),
        ],
    )


def _supervised(request: HttpRequest):
    """Events inside the user's supervision, through the scoped selector; 404 for non-supervisors."""
    if not units_granting(request.user, "supervise_event"):
        raise Http404
    area = jurisdiction_q(request.user, "supervise_event", path_field="area_path")
    return events_for_user(request.user).filter(area)


@login_required
def supervise(request: HttpRequest) -> HttpResponse:
    """The supervisor's dashboard: approvals waiting, overdue events to urge, the map, the report."""
    scoped = _supervised(request)
    pending = (
        ApprovalRequest.objects.filter(status=RequestStatus.PENDING, event__in=scoped)
        .select_related("event", "requested_by", "requested_by_department")
        .order_by("requested_at")[:100]
    )
    overdue = by_due(scoped.filter(overdue_q()).select_related("category", "grid"))[:100]
    units = scoped_units(request.user, "supervise_event")
    context = {
        "pending": pending,
        "events": overdue,
        "map": map_data(units, events=_points(scoped.filter(overdue_q() | due_soon_q()))),
    }
    return allow_tiles(render(request, "dispatch/supervise.html", context))


@login_required
def supervise_events(request: HttpRequest) -> HttpResponse:
    """Every event the supervisor oversees, searchable, with the due filters and urge on each row."""
    scoped = _supervised(request).select_related("category", "grid", "lead_department")
    due = DueFilterForm(request.GET or None)
    wanted = due.cleaned_data.get("due") if due.is_valid() else ""
    if wanted == OVERDUE:
        scoped = scoped.filter(overdue_q())
    elif wanted == DUE_SOON:
        scoped = scoped.filter(due_soon_q())
    form, qs = filtered(request, scoped, Q(state__in=OPEN_STATES))
    page = queue_page(request, by_due(qs))
    units = scoped_units(request.user, "supervise_event")
    _mark_missed_dispatch(page.object_list)
    context = {
        "form": form,
        "due_form": due,
        "page": page,
        "events": page.object_list,
        "map": map_data(units, events=_points(qs)),
    }
    return allow_tiles(render(request, "dispatch/supervise_events.html", context))


def _points(qs) -> list[dict]:
    """The map's dots; an event overdue for its dispatch step is red like the list says."""
    points = event_points(qs)
    codes = [p["code"] for p in points]
    missed = set(Event.objects.filter(dispatch_missed_q(), code__in=codes).values_list("code", flat=True))
    for point in points:
        if point["code"] in missed:
            point["light"] = "red"
    return points


def _mark_missed_dispatch(events: list) -> None:
    """An event escalated for a missed dispatch limit runs a fresh green clock at the new tier,
    but it is overdue for its dispatch step: it shows red here (`shown_light`)."""
    ids = [e.pk for e in events]
    missed = set(Event.objects.filter(dispatch_missed_q(), pk__in=ids).values_list("pk", flat=True)) if ids else set()
    for e in events:
        e.shown_light = "red" if e.pk in missed else e.light
        e.missed_dispatch = e.pk in missed


@login_required
@require_POST
def urge(request: HttpRequest, pk: int) -> HttpResponse:
    note = request.POST.get("note") or _("Overdue: please act now.")
    back = safe_next(request) or "supervise"
    try:
        event = event_for_user(request.user, pk=pk)
    except ServiceError:
        raise Http404 from None
    version = seen_version(request)
    if version is None:
        messages.error(request, str(STALE_PAGE))
        return redirect(back)
    try:
        services.event_urge(actor=request.user, event_id=event.pk, note=note, expected_version=version)
    except ServiceError as exc:
        if exc.status == 404:
            raise Http404 from None
        messages.error(request, said(exc))
    else:
        messages.success(request, _("Urged %(code)s: the department was told.") % {"code": event.code})
    return redirect(back)
