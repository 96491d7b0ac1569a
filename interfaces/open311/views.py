"""Open311 GeoReport v2 under /open311/v2/, JSON and XML, plus FixMyStreet's servicerequestupdates.

Services are our category subclasses (grouped by major class). Reads are public and carry no
personal data (what they show: interfaces.open311.public); POST needs an API key issued by an
admin (interfaces.open311.filing). Answers and the spec's error list: interfaces.open311.render.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import F, Q
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from incidents.models import OPEN_STATES, Category, EventRecord, State
from incidents.selectors import public_events

from .filing import create
from .public import ATTRIBUTES, service, service_request, service_request_update
from .render import errors, format_or_error, respond

MAX_RESULTS = 1000
DEFAULT_WINDOW = timedelta(days=90)


# --- discovery, services, definitions


@require_GET
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    if error := format_or_error(fmt):
        return error
    url = request.build_absolute_uri(reverse("open311-root"))
    data = {
        "changeset": "2026-11-28T00:00:00Z",
        "contact": "Operations centre of the deploying city",
        "key_service": "API keys are issued by the city's citygov administrators.",
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": url,
                "changeset": "2026-11-28T00:00:00Z",
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return respond(fmt, data, "discovery", None)


@require_GET
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    if error := format_or_error(fmt):
        return error
    categories = Category.objects.filter(parent__isnull=False, is_active=True).select_related("parent").order_by("code")
    return respond(fmt, [service(c) for c in categories], "services", "service")


@require_GET
def service_definition(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    if error := format_or_error(fmt):
        return error
    if not Category.objects.filter(code=code, parent__isnull=False, is_active=True).exists():
        return errors(fmt, 404, f"Unknown service_code {code}.")
    return respond(fmt, {"service_code": code, "attributes": ATTRIBUTES}, "service_definition", None)


# --- requests


def _parse_when(value: str, name: str) -> datetime:
    parsed = parse_datetime(value.replace(" ", "+"))
    if parsed is None:
        raise ValueError(f"{name} must be a W3C date-time, e.g. 2026-11-28T09:00:00+08:00.")
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def request_list(request: HttpRequest, fmt: str) -> HttpResponse:
    if error := format_or_error(fmt):
        return error
    if request.method == "POST":
        return create(request, fmt)
    qs = public_events()
    p = request.GET
    if ids := p.get("service_request_id"):
        qs = qs.filter(code__in=[i.strip() for i in ids.split(",") if i.strip()][:MAX_RESULTS])
    else:
        try:
            end = _parse_when(p["end_date"], "end_date") if p.get("end_date") else timezone.now()
            start = _parse_when(p["start_date"], "start_date") if p.get("start_date") else end - DEFAULT_WINDOW
        except ValueError as exc:
            return errors(fmt, 400, str(exc))
        if start > end:
            return errors(fmt, 400, "start_date is after end_date.")
        qs = qs.filter(reported_at__gte=start, reported_at__lte=end)
        if codes := p.get("service_code"):
            qs = qs.filter(category__code__in=[c.strip() for c in codes.split(",")])
        if status := p.get("status"):
            wanted = {s.strip() for s in status.split(",")}
            if not wanted <= {"open", "closed"}:
                return errors(fmt, 400, "status is open, closed or both (comma-separated).")
            if wanted == {"open"}:
                qs = qs.filter(state__in=OPEN_STATES)
            elif wanted == {"closed"}:
                qs = qs.exclude(state__in=OPEN_STATES)
    events = list(qs.order_by("-reported_at")[:MAX_RESULTS])
    return respond(fmt, [service_request(e) for e in events], "service_requests", "request")


@require_GET
def request_detail(request: HttpRequest, request_id: str, fmt: str) -> HttpResponse:
    if error := format_or_error(fmt):
        return error
    event = public_events().filter(code=request_id).first()
    if event is None:
        return errors(fmt, 404, f"No service request {request_id}.")
    return respond(fmt, [service_request(event)], "service_requests", "request")


@require_GET
def token_detail(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    """Requests are created synchronously: the token is the service_request_id itself."""
    if error := format_or_error(fmt):
        return error
    if not public_events().filter(code=token).exists():
        return errors(fmt, 404, f"No request for token {token}.")
    return respond(fmt, [{"service_request_id": token, "token": token}], "service_requests", "request")


# --- FixMyStreet's update feed


@require_GET
def request_updates(request: HttpRequest, fmt: str) -> HttpResponse:
    """GET servicerequestupdates: each public change of a request since start_date."""
    if error := format_or_error(fmt):
        return error
    p = request.GET
    try:
        end = _parse_when(p["end_date"], "end_date") if p.get("end_date") else timezone.now()
        start = _parse_when(p["start_date"], "start_date") if p.get("start_date") else end - timedelta(days=1)
    except ValueError as exc:
        return errors(fmt, 400, str(exc))
    # State changes only: notes, urges and requests are internal.
    public = Q(from_state__in=State.values) & ~Q(from_state=F("to_state"))
    records = (
        EventRecord.objects.filter(created_at__gte=start, created_at__lte=end, event__in=public_events())
        .filter(public)
        .select_related("event")
        .order_by("created_at", "id")[:MAX_RESULTS]
    )
    return respond(fmt, [service_request_update(r) for r in records], "service_request_updates", "request_update")


def root(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Open311 GeoReport v2: see discovery.json", content_type="text/plain")
