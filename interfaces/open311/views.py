"""Open311 GeoReport v2 under /open311/v2/, JSON and XML, plus FixMyStreet's servicerequestupdates.

Services are our category subclasses (grouped by major class). Reads are
public and carry no personal data; POST needs an API key issued by an admin.
Status is "open" or "closed"; status_notes, agency_responsible (the lead
department) and expected_datetime (the overall deadline) come from the
lifecycle and the SLA clocks. Public text is only the department's result,
the closing note and a fixed note per state: reasons for returns, reopening,
refusals or invalidation stay internal. media_url stays empty: our photos are
served only to signed-in people who may see the event (interfaces.attachments).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

from django.db import transaction
from django.db.models import F, Q
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from accounts.grid_index import locate_grid
from accounts.models import OrgUnit
from core.errors import InvalidInput, NotPermitted, RateLimited
from core.stored_files import discarded_on_rollback
from dispatch.models import SlaClock
from incidents.models import OPEN_STATES, Category, Event, EventRecord, Open311Key, Source, State, Urgency
from incidents.permissions import Acting
from incidents.selectors import public_events
from interfaces import idempotency
from operations import services

FORMATS = {"json", "xml"}
MAX_RESULTS = 1000
DEFAULT_WINDOW = timedelta(days=90)
DESCRIPTION_MAX = 4000
ATTRIBUTES = [
    {
        "variable": True,
        "code": "urgency",
        "datatype": "singlevaluelist",
        "required": False,
        "datatype_description": "How urgent: 1 normal, 2 urgent, 3 critical",
        "order": 1,
        "description": "Urgency",
        "values": [{"key": str(v), "name": str(label)} for v, label in Urgency.choices],
    },
    {
        "variable": True,
        "code": "landmark",
        "datatype": "string",
        "required": False,
        "datatype_description": "A nearby landmark, at most 100 characters",
        "order": 2,
        "description": "Landmark",
    },
]
# Our states as FixMyStreet's update statuses.
UPDATE_STATUS = {
    State.REPORTED: "open",
    State.DISPATCHED: "action_scheduled",
    State.ACCEPTED: "in_progress",
    State.SUSPENDED: "action_scheduled",
    State.HANDLED: "in_progress",
    State.VERIFIED: "fixed",
    State.CLOSED: "closed",
    State.INVALIDATED: "no_further_action",
    State.MERGED: "duplicate",
}
# What the public reads about a change: a fixed note per state, never an internal reason
# (a department's return, an operator's reopen, a supervisor's refusal). Only these actions
# carry text written for the reporter: the result (处置反馈) and the closing note (结案).
PUBLIC_TEXT_ACTIONS = ("submit_result", "self_handle", "close")


def public_status_note(state: str) -> str:
    """The fixed public sentence for a state (in the language of the request)."""
    notes = {
        State.REPORTED: _("Received; waiting to be assigned to the responsible department."),
        State.DISPATCHED: _("Assigned to the responsible department."),
        State.ACCEPTED: _("The responsible department is working on it."),
        State.SUSPENDED: _("The work is scheduled for a later date."),
        State.HANDLED: _("The department reports the problem fixed; an on-site check follows."),
        State.VERIFIED: _("Checked on site; the request will be closed."),
        State.CLOSED: _("Closed."),
        State.INVALIDATED: _("Closed: no further action."),
        State.MERGED: _("Closed as a duplicate of another request."),
    }
    return str(notes.get(state, ""))


# --- rendering


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _xml(root: str, item: str | None, data) -> bytes:
    def fill(parent, value):
        if isinstance(value, dict):
            for key, inner in value.items():
                if isinstance(inner, list):
                    holder = ET.SubElement(parent, key)
                    child_name = {
                        "values": "value",
                        "attributes": "attribute",
                        "endpoints": "endpoint",
                        "formats": "format",
                    }.get(key, "item")
                    for element in inner:
                        fill(ET.SubElement(holder, child_name), element)
                else:
                    fill(ET.SubElement(parent, key), inner)
        elif value is None:
            return
        elif isinstance(value, bool):
            parent.text = "true" if value else "false"
        else:
            parent.text = str(value)

    top = ET.Element(root)
    if item is None:
        fill(top, data)
    else:
        for element in data:
            fill(ET.SubElement(top, item), element)
    return b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="utf-8")


def _respond(fmt: str, data, root: str, item: str | None, status: int = 200) -> HttpResponse:
    if fmt == "xml":
        return HttpResponse(_xml(root, item, data), status=status, content_type="text/xml; charset=utf-8")
    return HttpResponse(
        json.dumps(data, ensure_ascii=False), status=status, content_type="application/json; charset=utf-8"
    )


def _errors(fmt: str, status: int, *descriptions: str) -> HttpResponse:
    """The spec's error list: [{"code": 400, "description": "..."}]."""
    items = [{"code": status, "description": d} for d in descriptions]
    return _respond(fmt if fmt in FORMATS else "json", items, "errors", "error", status=status)


def _format_or_error(fmt: str) -> HttpResponse | None:
    if fmt not in FORMATS:
        return _errors("json", 404, f"Unknown format {fmt!r}; use .json or .xml.")
    return None


# --- discovery, services, definitions


@require_GET
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    if error := _format_or_error(fmt):
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
    return _respond(fmt, data, "discovery", None)


def _service(category: Category) -> dict:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.name_en or category.name,
        "metadata": True,
        "type": "realtime",
        "keywords": ",".join(category.keywords.split()),
        "group": category.parent.name if category.parent_id else "",
    }


@require_GET
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    if error := _format_or_error(fmt):
        return error
    categories = Category.objects.filter(parent__isnull=False, is_active=True).select_related("parent").order_by("code")
    return _respond(fmt, [_service(c) for c in categories], "services", "service")


@require_GET
def service_definition(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    if error := _format_or_error(fmt):
        return error
    if not Category.objects.filter(code=code, parent__isnull=False, is_active=True).exists():
        return _errors(fmt, 404, f"Unknown service_code {code}.")
    return _respond(fmt, {"service_code": code, "attributes": ATTRIBUTES}, "service_definition", None)


# --- requests


def _overall_due(event: Event) -> datetime | None:

    clock = SlaClock.objects.filter(event=event, step="overall").order_by("-id").first()
    return clock.due_at if clock else None


def _status_notes(event: Event) -> str:
    """The public note of the state, and the department's result once there is one; internal reasons stay internal."""
    note = public_status_note(event.state)
    if event.state in (State.HANDLED, State.VERIFIED, State.CLOSED) and event.result_note:
        note += " " + _("Result: %(note)s") % {"note": event.result_note}
    return note[:1000]


def _update_description(record: EventRecord) -> str:
    """The result or closing note where one was written for the public; else the state's fixed note."""
    if record.action in PUBLIC_TEXT_ACTIONS and record.reason.strip():
        return record.reason[:DESCRIPTION_MAX]
    return public_status_note(record.to_state)


def _request(event: Event) -> dict:
    return {
        "service_request_id": event.code,
        "status": "open" if event.state in OPEN_STATES else "closed",
        "status_notes": _status_notes(event),
        "service_name": event.category.name,
        "service_code": event.category.code,
        "description": event.description[:DESCRIPTION_MAX],
        "agency_responsible": event.lead_department.name if event.lead_department else "",
        "service_notice": "",
        "requested_datetime": _iso(event.reported_at),
        "updated_datetime": _iso(event.updated_at),
        "expected_datetime": _iso(_overall_due(event)),
        "address": event.address,
        "address_id": "",
        "zipcode": "",
        "lat": event.latitude,
        "long": event.longitude,
        "media_url": "",
    }


def _parse_when(value: str, name: str) -> datetime:
    parsed = parse_datetime(value.replace(" ", "+"))
    if parsed is None:
        raise ValueError(f"{name} must be a W3C date-time, e.g. 2026-11-28T09:00:00+08:00.")
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def request_list(request: HttpRequest, fmt: str) -> HttpResponse:
    if error := _format_or_error(fmt):
        return error
    if request.method == "POST":
        return _create(request, fmt)
    qs = public_events()
    p = request.GET
    if ids := p.get("service_request_id"):
        qs = qs.filter(code__in=[i.strip() for i in ids.split(",") if i.strip()][:MAX_RESULTS])
    else:
        try:
            end = _parse_when(p["end_date"], "end_date") if p.get("end_date") else timezone.now()
            start = _parse_when(p["start_date"], "start_date") if p.get("start_date") else end - DEFAULT_WINDOW
        except ValueError as exc:
            return _errors(fmt, 400, str(exc))
        if start > end:
            return _errors(fmt, 400, "start_date is after end_date.")
        qs = qs.filter(reported_at__gte=start, reported_at__lte=end)
        if codes := p.get("service_code"):
            qs = qs.filter(category__code__in=[c.strip() for c in codes.split(",")])
        if status := p.get("status"):
            wanted = {s.strip() for s in status.split(",")}
            if not wanted <= {"open", "closed"}:
                return _errors(fmt, 400, "status is open, closed or both (comma-separated).")
            if wanted == {"open"}:
                qs = qs.filter(state__in=OPEN_STATES)
            elif wanted == {"closed"}:
                qs = qs.exclude(state__in=OPEN_STATES)
    events = list(qs.order_by("-reported_at")[:MAX_RESULTS])
    return _respond(fmt, [_request(e) for e in events], "service_requests", "request")


@require_GET
def request_detail(request: HttpRequest, request_id: str, fmt: str) -> HttpResponse:
    if error := _format_or_error(fmt):
        return error
    event = public_events().filter(code=request_id).first()
    if event is None:
        return _errors(fmt, 404, f"No service request {request_id}.")
    return _respond(fmt, [_request(event)], "service_requests", "request")


@require_GET
def token_detail(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    """Requests are created synchronously: the token is the service_request_id itself."""
    if error := _format_or_error(fmt):
        return error
    if not public_events().filter(code=token).exists():
        return _errors(fmt, 404, f"No request for token {token}.")
    return _respond(fmt, [{"service_request_id": token, "token": token}], "service_requests", "request")


def _key_for(api_key: str) -> Open311Key | None:
    digest = hashlib.sha256(api_key.encode()).hexdigest()
    return Open311Key.objects.filter(key_hash=digest, revoked_at__isnull=True).select_related("jurisdiction").first()


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    p = request.POST
    key = _key_for(p.get("api_key", ""))
    if key is None:
        return _errors(fmt, 403, "A valid api_key is required to submit requests.")
    code = p.get("service_code", "")
    if not code:
        return _errors(fmt, 400, "service_code is required.")
    if not (p.get("lat") and p.get("long")):
        if not p.get("address_string"):
            return _errors(fmt, 400, "lat and long, or address_string, are required.")
        point = locate_address(p["address_string"])
        if point is None:
            return _errors(
                fmt, 400, "address_string names no grid, community or street of this city; send lat and long."
            )
        p = p.copy()
        p["lat"], p["long"] = f"{point[0]:.7f}", f"{point[1]:.7f}"
    description = p.get("description", "")
    if len(description) > DESCRIPTION_MAX:
        return _errors(fmt, 400, f"description is longer than {DESCRIPTION_MAX} characters.")
    urgency = p.get("attribute[urgency]") or None
    if urgency is not None and urgency not in {str(u) for u in Urgency.values}:
        return _errors(fmt, 400, "attribute[urgency] must be 1, 2 or 3.")
    landmark = p.get("attribute[landmark]", "")[:100]
    media_url = p.get("media_url", "")[:500]
    name = " ".join(filter(None, [p.get("last_name", ""), p.get("first_name", "")])).strip()[:64]

    idem_key = request.headers.get(idempotency.HEADER)
    if not idem_key:
        return _file(request, fmt, key, code, description, urgency, landmark, media_url, name, p)
    # Key, work and stored response in one transaction (see interfaces.idempotency).
    with discarded_on_rollback() as outcome, transaction.atomic():
        try:
            record = idempotency.begin(f"open311:{key.pk}", idem_key[:200], idempotency.fingerprint(request))
        except idempotency.Replay as replay:
            return HttpResponse(
                replay.record.response_body, status=replay.record.response_status, content_type=_ctype(fmt)
            )
        except (idempotency.IdempotencyMismatch, idempotency.IdempotencyInFlight) as exc:
            return _errors(fmt, exc.status_code, str(exc.detail))
        response = _file(request, fmt, key, code, description, urgency, landmark, media_url, name, p)
        if response.status_code >= 500:
            transaction.set_rollback(True)
            outcome["rolled_back"] = True
        else:
            idempotency.finish(record, response.status_code, response.content.decode())
    return response


def locate_address(address: str) -> tuple[float, float] | None:
    """A coarse geocoder from our own org units: the most specific unit named in the address.

    "南湖街道南湖一村社区第2网格旁" → the centre of that grid; a street name alone → the centre of
    the street. No external service: city networks are often offline.
    """
    from shapely.geometry import shape

    address = address.strip()[:200]
    if not address:
        return None
    named = [
        u
        for u in OrgUnit.objects.filter(is_active=True, boundary__isnull=False).only("name", "tier", "boundary")
        if u.name in address
    ]
    if not named:
        return None
    best = max(named, key=lambda u: (u.tier, len(u.name)))
    centre = shape(best.boundary).representative_point()
    return centre.y, centre.x


def _ctype(fmt: str) -> str:
    return "text/xml; charset=utf-8" if fmt == "xml" else "application/json; charset=utf-8"


def _file(request, fmt, key, code, description, urgency, landmark, media_url, name, p) -> HttpResponse:

    try:
        lat, lon = float(p["lat"]), float(p["long"])
    except ValueError:
        return _errors(fmt, 400, "lat and long must be decimal degrees.")
    grid = locate_grid(lat, lon) if -90 <= lat <= 90 and -180 <= lon <= 180 else None
    if grid is not None and not grid.path.startswith(key.jurisdiction.path):
        return _errors(fmt, 403, f"This api_key may only submit requests inside {key.jurisdiction.name}.")
    details = [description]
    if landmark:
        details.append(f"Landmark: {landmark}")
    if media_url:
        details.append(f"Photo: {media_url}")
    title = (
        (description.strip().splitlines() or [""])[0][:60]
        or Category.objects.filter(code=code).values_list("name", flat=True).first()
        or code
    )
    try:
        filed = services.event_file(
            actor=None,
            acting=Acting(user=None, role="open311", unit=key.jurisdiction),
            title=title,
            category=code,
            latitude=lat,
            longitude=lon,
            description="\n".join(details)[:DESCRIPTION_MAX],
            urgency=urgency,
            source=Source.OPEN311,
            address=p.get("address_string", "")[:200],
            reporter_name=name,
            reporter_phone=p.get("phone", "")[:32],
            rate_key=f"open311:{key.pk}",
        )
    except InvalidInput as exc:
        return _errors(fmt, 400, *[f"{field}: {' '.join(msgs)}" for field, msgs in exc.errors.items()])
    except RateLimited as exc:
        return _errors(fmt, 429, exc.message)
    except NotPermitted as exc:
        return _errors(fmt, 403, exc.message)
    data = [{"service_request_id": filed.event.code, "service_notice": "", "account_id": ""}]
    return _respond(fmt, data, "service_requests", "request")


# --- FixMyStreet's update feed


@require_GET
def request_updates(request: HttpRequest, fmt: str) -> HttpResponse:
    """GET servicerequestupdates: each public change of a request since start_date."""
    if error := _format_or_error(fmt):
        return error
    p = request.GET
    try:
        end = _parse_when(p["end_date"], "end_date") if p.get("end_date") else timezone.now()
        start = _parse_when(p["start_date"], "start_date") if p.get("start_date") else end - timedelta(days=1)
    except ValueError as exc:
        return _errors(fmt, 400, str(exc))
    # State changes only: notes, urges and requests are internal.
    public = Q(from_state__in=State.values) & ~Q(from_state=F("to_state"))
    records = (
        EventRecord.objects.filter(created_at__gte=start, created_at__lte=end, event__in=public_events())
        .filter(public)
        .select_related("event")
        .order_by("created_at", "id")[:MAX_RESULTS]
    )
    updates = [
        {
            "update_id": f"{r.event_id}_{r.seq}",
            "service_request_id": r.event.code,
            "status": UPDATE_STATUS.get(r.to_state, "open"),
            "updated_datetime": _iso(r.created_at),
            "description": _update_description(r),
            "media_url": "",
        }
        for r in records
    ]
    return _respond(fmt, updates, "service_request_updates", "request_update")


def root(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Open311 GeoReport v2: see discovery.json", content_type="text/plain")
