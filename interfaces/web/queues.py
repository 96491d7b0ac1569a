"""Web pages for operators, department handlers and supervisors, and in-page notifications."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Department
from accounts.selectors import departments_granting, units_granting
from core.errors import ServiceError
from dispatch.models import Notification, RoutingSuggestion
from incidents.models import OPEN_STATES, WITH_DEPARTMENT, State
from incidents.selectors import event_for_user, events_for_user, owned_within_q
from interfaces.web.common import STALE_PAGE, safe_next, said, seen_version, with_first_photo
from interfaces.web.forms import QueueFilterForm
from interfaces.web.maps import allow_tiles, event_points, map_data, scoped_units
from operations import services
from operations.notifications import notification_text, record_reason

PAGE_SIZE = 50


def by_due(qs):
    return qs.order_by(F("due_at").asc(nulls_last=True), "reported_at")


def filtered(request, qs, default_q: Q):
    form = QueueFilterForm(request.GET or None)
    if form.is_valid():
        data = form.cleaned_data
        state = data.get("state")
        if state == "all":
            pass
        elif state:
            qs = qs.filter(state=state)
        else:
            qs = qs.filter(default_q)
        if data.get("category"):
            c = data["category"]
            qs = qs.filter(Q(category=c) | Q(category__parent=c))
        if data.get("urgency"):
            qs = qs.filter(urgency=data["urgency"])
        if data.get("light"):
            qs = qs.filter(light=data["light"], state__in=OPEN_STATES)
        if data.get("tier"):
            qs = qs.filter(owner_unit__tier=data["tier"])
        if data.get("source"):
            qs = qs.filter(source=data["source"])
        zone = timezone.get_current_timezone()
        if data.get("since"):
            qs = qs.filter(reported_at__gte=datetime.combine(data["since"], time.min, tzinfo=zone))
        if data.get("until"):
            qs = qs.filter(reported_at__lt=datetime.combine(data["until"] + timedelta(days=1), time.min, tzinfo=zone))
        if data.get("q"):
            qs = qs.filter(
                Q(code__icontains=data["q"]) | Q(title__icontains=data["q"]) | Q(address__icontains=data["q"])
            )
    else:
        qs = qs.filter(default_q)
    return form, qs


class QueuePaginator(Paginator):
    """Counts a queue up to CAP rows and shows "10000+" beyond: an exact count of a whole
    city's waiting events costs more than the rest of the page, and nobody pages past 200."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.CAP + 1].count()

    @cached_property
    def num_pages(self) -> int:
        return min(super().num_pages, -(-self.CAP // self.per_page))  # the row past the cap is no page

    @property
    def count_label(self) -> str:
        return f"{self.CAP}+" if self.count > self.CAP else str(self.count)


def queue_page(request, qs):
    """One page of a queue: choose the page's ids on the event table alone, then join just those rows.

    Joining categories, grids and suggestions before the sort would join every
    waiting event of a district, not the 50 shown.
    """
    paginator = QueuePaginator(qs.values_list("pk", flat=True), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    ids = list(page.object_list)
    by_id = qs.order_by().in_bulk(ids)
    page.object_list = with_first_photo(by_id[pk] for pk in ids if pk in by_id)
    return page


@login_required
def console(request: HttpRequest) -> HttpResponse:
    """The operator's queue: events waiting for dispatch or closure at my tiers, by deadline."""
    if not units_granting(request.user, "operate_event"):
        raise Http404
    owned = owned_within_q(request.user, "operate_event")
    needs_action = owned & Q(state__in=[State.REPORTED, State.VERIFIED])
    base = events_for_user(request.user).select_related("category", "grid", "routing_suggestion__department")
    form, qs = filtered(request, base, needs_action)
    page = queue_page(request, by_due(qs))
    operate_units = units_granting(request.user, "operate_event")
    dept_q = Q()
    for unit in operate_units:
        dept_q |= Q(org_unit__path__startswith=unit.path)
    departments = (
        Department.objects.filter(dept_q, is_active=True)
        .select_related("org_unit")
        .order_by("org_unit__path", "type__code")
    )
    context = {
        "form": form,
        "page": page,
        "events": page.object_list,
        "departments": departments[:300],
        "selectable": True,
        "show_suggestion": True,
        "can_dispatch": qs.filter(state=State.REPORTED).exists(),
        "map": map_data(scoped_units(request.user, "operate_event"), events=event_points(qs)),
    }
    return allow_tiles(render(request, "dispatch/console.html", context))


@login_required
@require_POST
def quick_dispatch(request: HttpRequest, pk: int) -> HttpResponse:
    """One click: dispatch as routing suggested."""
    try:
        event = event_for_user(request.user, pk=pk)
    except ServiceError:
        raise Http404 from None
    suggestion = RoutingSuggestion.objects.filter(event=event).first()
    if suggestion is None:
        messages.error(request, _("There is no routing suggestion for %(code)s.") % {"code": event.code})
        return redirect("console")
    version = seen_version(request)
    if version is None:
        messages.error(request, f"{event.code}: {STALE_PAGE}")
        return redirect(safe_next(request) or "console")
    try:
        services.event_dispatch(
            actor=request.user,
            event_id=event.pk,
            department=suggestion.department,
            co_departments=list(suggestion.co_departments.all()),
            expected_version=version,
        )
    except ServiceError as exc:
        messages.error(request, f"{event.code}: {said(exc)}")
    else:
        messages.success(
            request, _("%(code)s dispatched to %(dept)s.") % {"code": event.code, "dept": suggestion.department.name}
        )
    return redirect(safe_next(request) or "console")


@login_required
@require_POST
def bulk_dispatch(request: HttpRequest) -> HttpResponse:
    """Dispatch several events to one department: one transaction each, one wake-up of the worker."""
    try:
        department = Department.objects.get(pk=int(request.POST.get("department", "")))
    except (ValueError, Department.DoesNotExist):
        messages.error(request, _("Choose a department."))
        return redirect("console")
    ids = [int(i) for i in request.POST.getlist("events") if i.isascii() and i.isdigit()][:200]
    if not ids:
        messages.error(request, _("Tick the events to dispatch."))
        return redirect("console")
    failed: list[str] = []
    versions, codes = [], {}
    for event in events_for_user(request.user).filter(pk__in=ids).only("id", "code"):
        # Each ticked row carries the version the operator saw: a row that changed since is refused.
        version = seen_version(request, f"version-{event.pk}")
        if version is None:
            failed.append(f"{event.code}: {STALE_PAGE}")
            continue
        versions.append((event.pk, version))
        codes[event.pk] = event.code
    result = services.events_dispatch(actor=request.user, department=department, versions=versions)
    done = result.done
    failed += [f"{codes[pk]}: {said(why)}" for pk, why in result.failed.items()]
    if done:
        messages.success(request, _("Dispatched %(n)d events to %(dept)s.") % {"n": len(done), "dept": department.name})
    for line in failed:
        messages.error(request, line)
    return redirect("console")


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """The department inbox: events my departments lead or co-handle, by deadline."""
    department_ids = [d.pk for d in departments_granting(request.user, "view_department_events")]
    if not department_ids:
        raise Http404
    mine = Q(lead_department_id__in=department_ids) | Q(co_departments__in=department_ids)
    base = events_for_user(request.user).filter(mine).distinct().select_related("category", "grid", "lead_department")
    form, qs = filtered(request, base, Q(state__in=WITH_DEPARTMENT))
    page = queue_page(request, by_due(qs))
    return render(request, "dispatch/inbox.html", {"form": form, "page": page, "events": page.object_list})


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    items = list(Notification.objects.filter(user=request.user).select_related("event", "source_message")[:100])
    for n in items:
        # Said again in the reader's language; the stored text is the delivery's language.
        payload = n.source_message.payload if n.source_message else {}
        action = payload.get("action") or n.kind
        said_now = ""
        if n.event is not None and action:
            reason = record_reason(n.event, payload) if action == "reopen" else ""
            said_now = notification_text(action, code=n.event.code, step=payload.get("step"), reason=reason)
        n.shown_text = said_now or n.text
    return render(request, "dispatch/notifications.html", {"items": items})


@login_required
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    Notification.objects.filter(user=request.user, read_at__isnull=True).update(read_at=timezone.now())
    return redirect("notifications")
