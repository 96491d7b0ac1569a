"""Web pages for events: filing, my events, verification, the event page and its actions.

Views are thin: they read through selectors, call one service per action,
and turn service errors into form errors, 403, 404 or a message.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import OrgUnit, Tier
from accounts.places import place_search
from accounts.selectors import departments_granting, jurisdiction_q, units_granting
from core.errors import Conflict, InvalidInput, NotFound, NotPermitted, RateLimited
from dispatch.models import RoutingSuggestion, SlaClock, SlaStep
from dispatch.sla import extension_preview
from incidents.duplicates import likely_duplicates
from incidents.models import ApprovalRequest, Category, Event, EventRecord, RequestStatus, Source, State
from incidents.permissions import unit_grant
from incidents.privacy import contact_for, contact_reveal
from incidents.selectors import event_for_user, events_for_user, history_for_user
from interfaces.outcomes import lost_sight_message
from interfaces.web.action_forms import action_form, values_of
from interfaces.web.common import STALE_PAGE, safe_next, said, seen_version, with_first_photo
from interfaces.web.event_page import annotate_history, clock_rounds, result_superseded
from interfaces.web.forms import DecisionForm, ReportForm
from interfaces.web.landing import action_message, decision_message, next_page
from interfaces.web.maps import allow_tiles, map_data, scoped_units
from interfaces.web.photo_stash import Stashed, discard, stash, stashed_file, unstash
from operations import services, table


def _grids_for(user) -> list[OrgUnit]:
    """Grids where the user may file: the map and the location check of the form."""
    q = jurisdiction_q(user, "report_event")
    return list(OrgUnit.objects.filter(q, tier=Tier.GRID).order_by("code")[:400])


@login_required
def report_event(request: HttpRequest, hotline: bool = False) -> HttpResponse:
    """The grid worker's form; with `hotline` the operator's 12345 mode (上报事件（热线）): the source
    preset to the hotline and shown, the caller first, the address search beside the location."""
    grids = _grids_for(request.user)
    if not grids:
        raise PermissionDenied(_("You hold no role that files events."))
    initial = {"source": Source.HOTLINE} if hotline else None
    # Operators may leave the category to the dispatch model (the service checks it again).
    from_text = bool(units_granting(request.user, "operate_event"))
    form = ReportForm(request.POST or None, request.FILES or None, initial=initial, from_text=from_text)
    duplicates = []
    # Photos kept from an earlier try of this form (photo_stash): attached with the new ones.
    kept_files, kept = unstash(request.POST.getlist("stashed"), request.user.pk) if request.POST else ([], [])
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen = data["category"]
        category = Category.objects.filter(pk=chosen).first() if chosen is not None else None
        if category and not data["file_anyway"] and not data["fixed_on_spot"]:
            duplicates = likely_duplicates(
                category=category,
                latitude=data["latitude"],
                longitude=data["longitude"],
                at=timezone.now(),
                among=events_for_user(request.user),
            )
        if not duplicates:
            try:
                filed = services.event_file(
                    actor=request.user,
                    title=data["title"],
                    # None: chosen from the text by the model; a choice gone meanwhile: its error.
                    category=category or (None if chosen is None else str(chosen)),
                    latitude=data["latitude"],
                    longitude=data["longitude"],
                    description=data["description"],
                    urgency=data["urgency"],
                    source=data["source"],
                    address=data["address"],
                    reporter_name=data["reporter_name"],
                    reporter_phone=data["reporter_phone"],
                    photos=[*kept_files, *data["photos"]],
                    fixed_on_spot=data["fixed_on_spot"],
                    result_note=data["result_note"],
                )
            except InvalidInput as exc:
                form.add_service_errors(exc)
            except (NotPermitted, RateLimited) as exc:
                form.add_error(None, exc.message)
            else:
                discard([k.token for k in kept], request.user.pk)
                messages.success(request, _("Event %(code)s filed.") % {"code": filed.event.code})
                return redirect("event-detail", pk=filed.event.pk)
        else:
            form.add_error(
                "file_anyway", _("Likely duplicates nearby: look at them first, or tick this box to file anyway.")
            )
    if request.method == "POST":
        kept += _stash_new_photos(request, form)
    point = None
    if form.is_bound and form.data.get("latitude") and form.data.get("longitude"):
        try:
            point = (float(form.data["latitude"]), float(form.data["longitude"]))
        except ValueError:
            point = None
    units = scoped_units(request.user, "report_event")
    response = render(
        request,
        "incidents/report.html",
        {
            "form": form,
            "hotline": hotline,
            "map": map_data(units, point=point, editable=True),
            "category_index": {
                str(c["pk"]): c
                for c in Category.objects.filter(is_active=True, parent__isnull=False).values(
                    "pk", "name", "name_en", "keywords"
                )
            },
            "duplicates": duplicates,
            "stashed": kept,
        },
    )
    return allow_tiles(response)


def _stash_new_photos(request: HttpRequest, form: ReportForm) -> list[Stashed]:
    """The form is shown again: keep this try's good photos, and say why any other was not kept."""
    new, refused = stash(request.user.pk, request.FILES.getlist("photos"))
    shown = {str(m) for m in form.errors.get("photos", [])}
    for message in refused:
        if message not in shown:
            form.add_error("photos", message)
    return new


@login_required
@require_GET
def stashed_photo(request: HttpRequest, token: str) -> HttpResponse:
    """A kept photo's thumbnail, for the user who chose it only (the signed token names them)."""
    found = stashed_file(token, request.user.pk)
    if found is None:
        raise Http404
    content, content_type = found
    response = HttpResponse(content, content_type=content_type)
    response["Cache-Control"] = "private, max-age=600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def extension_deadline_json(request: HttpRequest, pk: int) -> JsonResponse:
    """What an extension of `hours` would make the deadlines, before asking (dispatch.worktime)."""
    event = _event_or_404(request.user, pk)
    try:
        hours = int(request.GET.get("hours", ""))
        if not 1 <= hours <= 720:
            raise ValueError("out of range")
    except ValueError:
        return JsonResponse(
            {"code": "invalid", "message": _("Give whole hours between 1 and 720 (hours).")}, status=400
        )
    zone = timezone.get_current_timezone()
    deadlines = extension_preview(event, hours)
    return JsonResponse(
        {
            "hours": hours,
            "deadlines": [
                {
                    "step": step,
                    "label": str(SlaStep(step).label),
                    "due_at": due.isoformat(),
                    "display": due.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                }
                for step, due in deadlines.items()
            ],
        }
    )


@login_required
def report_hotline(request: HttpRequest) -> HttpResponse:
    return report_event(request, hotline=True)


@login_required
@require_GET
def place_search_json(request: HttpRequest) -> JsonResponse:
    """The gazetteer for the intake form: standard addresses and unit names the user may file in."""
    text = request.GET.get("q", "").strip()
    if not text:
        return JsonResponse(
            {"code": "invalid", "message": _("Type part of an address or a place name (q).")}, status=400
        )
    if len(text) > 100:
        return JsonResponse(
            {"code": "invalid", "message": _("The search text is longer than 100 characters (q).")}, status=400
        )
    found = place_search(request.user, text)
    return JsonResponse(
        {
            "results": [
                {"kind": p.kind, "name": p.name, "latitude": p.latitude, "longitude": p.longitude, "unit": p.unit}
                for p in found
            ]
        }
    )


@login_required
@require_GET
def duplicates_json(request: HttpRequest) -> JsonResponse:
    """Likely duplicates for the form, before submitting (progressive enhancement)."""
    try:
        category = Category.objects.get(pk=int(request.GET.get("category", "")))
        lat, lon = float(request.GET["latitude"]), float(request.GET["longitude"])
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):  # also refuses inf and nan
            raise ValueError("out of range")
    except (ValueError, KeyError, Category.DoesNotExist):
        return JsonResponse(
            {"code": "invalid", "message": _("category, latitude and longitude are required")}, status=400
        )
    found = likely_duplicates(
        category=category, latitude=lat, longitude=lon, at=timezone.now(), among=events_for_user(request.user)
    )
    return JsonResponse(
        {
            "duplicates": [
                {
                    "code": d.event.code,
                    "title": d.event.title,
                    "state": d.event.get_state_display(),
                    "distance_m": d.distance_m,
                    "url": reverse("event-detail", args=[d.event.pk]),
                }
                for d in found
            ]
        }
    )


@login_required
def my_events(request: HttpRequest) -> HttpResponse:
    events = events_for_user(request.user).filter(reporter=request.user).select_related("category", "grid")
    return render(request, "incidents/mine.html", {"events": with_first_photo(events.order_by("-reported_at")[:200])})


@login_required
def verify_queue(request: HttpRequest) -> HttpResponse:
    """Events handled in my grids, waiting for the on-site check."""
    q = jurisdiction_q(request.user, "verify_event", path_field="area_path")
    # Not the ones whose result I submitted myself: someone else checks those.
    submitter = (
        EventRecord.objects.filter(event=OuterRef("pk"), action__in=services.RESULT_ACTIONS)
        .order_by("-seq")
        .values("actor_id")[:1]
    )
    events = (
        events_for_user(request.user)
        .filter(q, state=State.HANDLED)
        .annotate(submitter=Subquery(submitter))
        .exclude(submitter=request.user.pk)
        .select_related("category", "grid", "lead_department")
    )
    return render(
        request, "incidents/verify_list.html", {"events": with_first_photo(events.order_by("handled_at")[:200])}
    )


# --- the event page


def available_actions(user, event: Event) -> set[str]:
    """Which action forms to show: from the operations table. The services remain the authority."""
    return {op.name for op in table.available_actions(user, event)}


def after_action(request: HttpRequest, event: Event, name: str) -> HttpResponse:
    """Where a successful action lands, with what it did ("E…: 已派遣至南湖街道环卫所"): the user's
    next work (interfaces.web.landing), or, when the action took the event out of the user's view
    (a department returning it), their own queue with what happened."""
    after = Event.objects.select_related("lead_department", "owner_unit", "merged_into").get(pk=event.pk)
    if events_for_user(request.user).filter(pk=event.pk).exists():
        messages.success(request, action_message(name, event, after))
        return redirect(next_page(name, after))
    if name in ("return", "dispatch", "redispatch", "escalate"):
        messages.success(request, action_message(name, event, after))
    else:
        messages.success(request, f"{event.code}: {lost_sight_message(name, after.state)}")
    return redirect(home_queue(request.user))


def home_queue(user) -> str:
    if departments_granting(user, "view_department_events"):
        return reverse("inbox")
    if units_granting(user, "operate_event"):
        return reverse("console")
    return reverse("home")


def _event_or_404(user, pk: int) -> Event:
    try:
        return event_for_user(user, pk=pk)
    except NotFound:
        raise Http404(_("No such event.")) from None


def _detail_context(request, event: Event, bound: dict | None = None) -> dict:
    offered = table.available_actions(request.user, event)
    actions = {op.name for op in offered}
    forms = {op.name: action_form(op, request.user, event) for op in offered}
    if bound:
        forms.update(bound)
    clocks = list(SlaClock.objects.filter(event=event).order_by("started_at", "id"))
    records = history_for_user(
        request.user, event.records.select_related("actor", "actor_unit", "actor_department").order_by("seq")
    )
    annotate_history(records)
    pending = ApprovalRequest.objects.filter(event=event, status=RequestStatus.PENDING)
    decide = unit_grant(request.user, "supervise_event", event.grid) is not None
    attachments = list(event.attachments.all())
    by_id = {a.pk: a for a in attachments}
    for r in records:
        # The photos a step added, beside it in the timeline (thumbnails linking to the full photo).
        listed = r.shown_data.get("photos") if isinstance(r.shown_data, dict) else None  # type: ignore[attr-defined]
        r.photos = [by_id[p["id"]] for p in listed or [] if isinstance(p, dict) and p.get("id") in by_id]  # type: ignore[attr-defined]
    return {
        "event": event,
        "actions": actions,
        "forms": forms,
        # In the table's order, with the table's labels: what the page draws.
        "action_forms": [(op.name, op.label, forms[op.name]) for op in offered],
        "clocks": clocks,
        "clock_rounds": clock_rounds(clocks, records),
        "records": records,
        "result_superseded": result_superseded(records),
        "attachments": attachments,
        "suggestion": RoutingSuggestion.objects.filter(event=event).select_related("department", "rule").first(),
        "contact": contact_for(request.user, event),
        "map": map_data([event.grid], point=(event.latitude, event.longitude), highlight=event.grid_id),
        "pending": pending,
        "decision_form": DecisionForm() if decide and pending else None,
        "co_departments": event.co_departments.all(),
    }


@login_required
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = _event_or_404(request.user, pk)
    return allow_tiles(render(request, "incidents/event_detail.html", _detail_context(request, event)))


@login_required
@require_POST
def event_action(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    event = _event_or_404(request.user, pk)
    op = table.BY_NAME.get(name)
    if op is None or table.WEB not in op.channels:
        raise Http404
    version = seen_version(request)
    if version is None:
        messages.error(request, str(STALE_PAGE))
        return redirect("event-detail", pk=pk)
    form = action_form(op, request.user, event, request.POST, request.FILES)
    if form is not None and not form.is_valid():
        return _rerender(request, event, name, form)
    try:
        table.perform(op, actor=request.user, event_id=event.pk, values=values_of(op, form), expected_version=version)
    except InvalidInput as exc:
        if form is None:
            messages.error(request, said(exc))
            return redirect("event-detail", pk=pk)
        form.add_service_errors(exc)
        return _rerender(request, event, name, form)
    except NotPermitted as exc:
        raise PermissionDenied(exc.message) from None
    except NotFound:
        raise Http404 from None
    except Conflict as exc:
        messages.error(request, said(exc))
        return redirect("event-detail", pk=pk)
    return after_action(request, event, name)


def _rerender(request, event, name, form) -> HttpResponse:
    context = _detail_context(request, event, bound={name: form})
    context["open_action"] = name
    return render(request, "incidents/event_detail.html", context, status=400)


@login_required
@require_POST
def event_decide(request: HttpRequest, pk: int, request_id: int) -> HttpResponse:
    event = _event_or_404(request.user, pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose approve or refuse."))
        return redirect("event-detail", pk=event.pk)
    if not ApprovalRequest.objects.filter(pk=request_id, event=event).exists():
        raise Http404
    version = seen_version(request)
    if version is None:
        messages.error(request, str(STALE_PAGE))
        return redirect(safe_next(request) or reverse("event-detail", args=[event.pk]))
    try:
        decided = services.request_decide(
            actor=request.user,
            request_id=request_id,
            approve=form.cleaned_data["approve"],
            note=form.cleaned_data["note"],
            expected_version=version,
        )
    except InvalidInput as exc:
        messages.error(request, said(exc))
    except NotPermitted as exc:
        raise PermissionDenied(exc.message) from None
    except Conflict as exc:
        messages.error(request, said(exc))
    else:
        messages.success(request, decision_message(decided, event))
        if not events_for_user(request.user).filter(pk=event.pk).exists():
            return redirect(safe_next(request) or home_queue(request.user))
    return redirect(safe_next(request) or reverse("event-detail", args=[event.pk]))


@login_required
@require_POST
def reveal_contact(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        contact = contact_reveal(user=request.user, event_id=pk, reason=request.POST.get("reason", ""))
    except NotFound:
        raise Http404 from None
    except NotPermitted as exc:
        raise PermissionDenied(exc.message) from None
    event = _event_or_404(request.user, pk)
    context = _detail_context(request, event)
    context["contact"] = contact
    return render(request, "incidents/event_detail.html", context)
