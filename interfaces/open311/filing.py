"""Filing a service request (POST requests.json or .xml): the client's key, its form, the event filed.

A key may file only inside its jurisdiction. Without lat and long the address_string is placed
on the map from our own boundaries (interfaces.open311.geocode). The event is filed by the same
service as every other channel (operations.services.event_file), with source "open311".
"""

from __future__ import annotations

import hashlib
from functools import partial

from django.http import HttpRequest, HttpResponse, QueryDict

from accounts.grid_index import locate_grid
from core.errors import InvalidInput, NotPermitted, RateLimited
from incidents.models import Category, Open311Key, Source, Urgency
from incidents.permissions import Acting
from operations import services

from .geocode import locate_address
from .idempotent import once
from .public import DESCRIPTION_MAX
from .render import errors, respond


def key_for(api_key: str) -> Open311Key | None:
    """The client's key, unless unknown or revoked (only its SHA-256 is stored)."""
    digest = hashlib.sha256(api_key.encode()).hexdigest()
    return Open311Key.objects.filter(key_hash=digest, revoked_at__isnull=True).select_related("jurisdiction").first()


def create(request: HttpRequest, fmt: str) -> HttpResponse:
    """Check the client's key and form, then file the request once per Idempotency-Key."""
    p = request.POST
    key = key_for(p.get("api_key", ""))
    if key is None:
        return errors(fmt, 403, "A valid api_key is required to submit requests.")
    code = p.get("service_code", "")
    if not code:
        return errors(fmt, 400, "service_code is required.")
    if not (p.get("lat") and p.get("long")):
        if not p.get("address_string"):
            return errors(fmt, 400, "lat and long, or address_string, are required.")
        point = locate_address(p["address_string"])
        if point is None:
            return errors(
                fmt, 400, "address_string names no grid, community or street of this city; send lat and long."
            )
        p = p.copy()
        p["lat"], p["long"] = f"{point[0]:.7f}", f"{point[1]:.7f}"
    description = p.get("description", "")
    if len(description) > DESCRIPTION_MAX:
        return errors(fmt, 400, f"description is longer than {DESCRIPTION_MAX} characters.")
    urgency = p.get("attribute[urgency]") or None
    if urgency is not None and urgency not in {str(u) for u in Urgency.values}:
        return errors(fmt, 400, "attribute[urgency] must be 1, 2 or 3.")
    landmark = p.get("attribute[landmark]", "")[:100]
    media_url = p.get("media_url", "")[:500]
    name = " ".join(filter(None, [p.get("last_name", ""), p.get("first_name", "")])).strip()[:64]
    work = partial(file_request, fmt, key, code, description, urgency, landmark, media_url, name, p)
    return once(request, fmt, f"open311:{key.pk}", work)


def file_request(
    fmt: str,
    key: Open311Key,
    code: str,
    description: str,
    urgency: str | None,
    landmark: str,
    media_url: str,
    name: str,
    p: QueryDict,
) -> HttpResponse:
    """File the event inside the key's jurisdiction; the answer names the new service_request_id."""
    try:
        lat, lon = float(p["lat"]), float(p["long"])
    except ValueError:
        return errors(fmt, 400, "lat and long must be decimal degrees.")
    grid = locate_grid(lat, lon) if -90 <= lat <= 90 and -180 <= lon <= 180 else None
    if grid is not None and not grid.path.startswith(key.jurisdiction.path):
        return errors(fmt, 403, f"This api_key may only submit requests inside {key.jurisdiction.name}.")
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
        return errors(fmt, 400, *[f"{field}: {' '.join(msgs)}" for field, msgs in exc.errors.items()])
    except RateLimited as exc:
        return errors(fmt, 429, exc.message)
    except NotPermitted as exc:
        return errors(fmt, 403, exc.message)
    data = [{"service_request_id": filed.event.code, "service_notice": "", "account_id": ""}]
    return respond(fmt, data, "service_requests", "request")
