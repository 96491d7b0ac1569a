"""Filing an event (上报) and fixing it on the spot (自处理)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.grid_index import locate_grid, unit_above
from accounts.models import OrgUnit, Tier, User
from core.errors import InvalidInput, NotPermitted, RateLimited
from core.ratelimit import allow
from dispatch.models import RoutingMode, RoutingSuggestion
from dispatch.routing import Decision, route, situation_of
from incidents.codes import event_code, reserve_event_id
from incidents.duplicates import Duplicate, likely_duplicates
from incidents.models import AttachmentKind, Category, Event, Source, Urgency
from incidents.permissions import SYSTEM, Acting, require_unit, unit_grant
from incidents.photos import process_photos
from incidents.reference import category_by_code
from incidents.selectors import events_for_user
from operations.services._base import (
    NewEvent,
    commit,
    optional_text,
    photo_data,
    run_transition,
    save_photos,
    written_files,
)
from operations.services.learned import category_by_model, dispatch_by_model, model_unavailable
from operations.services.lifecycle import apply_dispatch


@dataclass
class FiledEvent:
    event: Event
    duplicates: list[Duplicate] = field(default_factory=list)


def _parse_coordinate(value: Any, low: float, high: float, name: str, errors: dict[str, str]) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        errors[name] = _("Enter a number.")
        return None
    if number != number or not low <= number <= high:  # NaN or out of range
        errors[name] = _("Must be between %(low)s and %(high)s.") % {"low": low, "high": high}
        return None
    return number


def _resolve_category(category: Category | str | None, errors: dict[str, str]) -> Category | None:
    found: Category | None
    if isinstance(category, Category):
        found = category
    else:
        found = category_by_code(str(category or "").strip())
        if found is None:
            errors["category"] = _("Unknown category %(code)s.") % {"code": category}
            return None
    if found.parent_id is None:
        errors["category"] = _("Choose a subclass (小类), not the major class %(name)s.") % {"name": found.name}
        return None
    if not found.is_active:
        errors["category"] = _("Category %(name)s is no longer in use.") % {"name": found.name}
        return None
    return found


def _check_rate(acting: Acting, rate_key: str | None) -> None:
    """Per-person and per-API-key intake limits: a stuck client or a script cannot flood the queues."""
    if rate_key:
        key, limit = f"intake:key:{rate_key}", settings.INTAKE_RATE_PER_KEY_PER_MINUTE
    elif acting.user is not None:
        key, limit = f"intake:user:{acting.user.pk}", settings.INTAKE_RATE_PER_USER_PER_MINUTE
    else:
        return
    if not allow(key, limit, 60):
        raise RateLimited(
            _("Too many events filed in the last minute (limit %(n)d); try again shortly.") % {"n": limit}
        )


def owning_unit_for(grid: OrgUnit) -> OrgUnit:
    """New events wait for the operators of the street (街镇) that contains their grid."""
    return unit_above(grid.depth_codes[Tier.STREET - 1])


def event_file(
    *,
    actor: User | None,
    title: str,
    category: Category | str | None,
    latitude: object,  # whatever the channel received; checked here
    longitude: object,
    description: str = "",
    urgency: int | str | None = None,  # a form's empty choice is ""
    source: str = Source.GRID_WORKER,
    address: str = "",
    reporter_name: str = "",
    reporter_phone: str = "",
    photos: Iterable[File] = (),
    fixed_on_spot: bool = False,
    result_note: str = "",
    acting: Acting | None = None,
    rate_key: str | None = None,
    record_data: dict[str, Any] | None = None,
) -> FiledEvent:
    """File a new event (上报). With `fixed_on_spot` the grid worker has already fixed it (自处理).

    Validates everything before writing anything; returns the event and its likely duplicates.
    `record_data` adds facts to the first history record (a sensor warning's fired_at, its level).
    Without a category an operator's report is filed under the dispatch model's top category from its
    text and place (`learned.category_by_model`; the first record's `category_by` says so); without a
    usable model that is an error on the category and nothing is stored.
    """
    errors: dict[str, str] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = _("A title is required.")
    elif len(title) > 120:
        errors["title"] = _("At most %(n)d characters.") % {"n": 120}
    if description and len(description) > 4000:
        errors["description"] = _("At most %(n)d characters.") % {"n": 4000}
    from_text = isinstance(category, str | None) and not (category or "").strip()
    found_category = None
    if not from_text:
        found_category = _resolve_category(category, errors)
    elif unavailable := model_unavailable():
        errors["category"] = unavailable
    lat = _parse_coordinate(latitude, -90, 90, "latitude", errors)
    lon = _parse_coordinate(longitude, -180, 180, "longitude", errors)
    urgency_value: int | None = None
    if urgency not in (None, ""):
        try:
            urgency_value = Urgency(int(urgency))
        except (TypeError, ValueError):
            errors["urgency"] = _("Urgency is one of %(values)s.") % {
                "values": ", ".join(str(u) for u in Urgency.values)
            }
    if source not in Source.values:
        errors["source"] = _("Source is one of %(values)s.") % {"values": ", ".join(Source.values)}
    if len(address or "") > 200:
        errors["address"] = _("At most %(n)d characters.") % {"n": 200}
    if len(reporter_name or "") > 64:
        errors["reporter_name"] = _("At most %(n)d characters.") % {"n": 64}
    if len(reporter_phone or "") > 32:
        errors["reporter_phone"] = _("At most %(n)d characters.") % {"n": 32}
    grid = None
    if lat is not None and lon is not None:
        grid = locate_grid(lat, lon)
        if grid is None:
            errors["location"] = _("(%(lat).6f, %(lon).6f) lies outside every grid of the city.") % {
                "lat": lat,
                "lon": lon,
            }
    if fixed_on_spot:
        result_note = optional_text(result_note, "result_note")
        if not result_note:
            errors["result_note"] = _("Say what was done on the spot.")
    # Each None below has its message in `errors`; the test names them for the type checker.
    if errors or (found_category is None and not from_text) or lat is None or lon is None or grid is None:
        raise InvalidInput(errors)
    processed = process_photos(photos, "photos")
    if fixed_on_spot and not processed:
        raise InvalidInput({"photos": _("An event fixed on the spot needs a photo of the result.")})

    if acting is None:
        if actor is None:
            raise NotPermitted(_("Sign in to file an event."))
        acting = require_unit(actor, "report_event", grid, _("file events"))
    _check_rate(acting, rate_key)
    if fixed_on_spot and acting.role not in ("grid_worker", "admin"):
        raise NotPermitted(_("Only grid workers fix events on the spot."))
    category_by: dict[str, Any] = {}
    if found_category is None:
        found_category, category_by = _category_from_text(acting, title, description, source, grid)
    if urgency_value is None:
        urgency_value = found_category.default_urgency

    now = timezone.now()
    with written_files() as written, transaction.atomic():
        owner_unit = owning_unit_for(grid)
        # The id first (one statement), so the code, the due time and the anchor are known before
        # the event's one INSERT (incidents.codes).
        event = Event(
            pk=reserve_event_id(),
            title=title,
            description=(description or "").strip(),
            category=found_category,
            urgency=urgency_value,
            source=source,
            latitude=lat,
            longitude=lon,
            address=(address or "").strip(),
            grid=grid,
            area_path=grid.path,
            reporter=acting.user,
            reporter_name=(reporter_name or "").strip(),
            reporter_phone=(reporter_phone or "").strip(),
            owner_unit=owner_unit,
            reported_at=now,
        )
        event.code = event_code(grid, now, event.pk)
        new = NewEvent(event, acting)
        new.add(
            "file",
            acting,
            from_state="",
            at=now,
            data={
                "category": found_category.code,
                "urgency": int(urgency_value),
                "source": source,
                "grid": grid.code,
                "owner_unit": owner_unit.code,
                **({"category_by": category_by} if category_by else {}),
                **(record_data or {}),
            },
            reason=_category_note(found_category, category_by),
            payload={"event": event.pk, "code": event.code, "action": "file"},
        )
        if fixed_on_spot:
            new.write(now, written)  # filed (no photo before: they show the result), then fixed
            from_state = run_transition(event, event.to_self_handled, _("fix on the spot"))
            event.self_handled = True
            event.handled_at = now
            event.result_note = result_note
            after = save_photos(event, processed, AttachmentKind.AFTER, acting, now, written)
            commit(
                event,
                acting,
                "self_handle",
                from_state=from_state,
                reason=result_note,
                data={"photos": photo_data(after)},
                at=now,
            )
        else:
            new.photos = processed
            route_new_event(event, new, now)
            new.write(now, written)
    # Only events the filer may see: a point near a district border must not reveal the
    # neighbour's event codes. Callers without a user (Open311) get none.
    duplicates = likely_duplicates(
        category=found_category,
        latitude=lat,
        longitude=lon,
        at=now,
        exclude_id=event.pk,
        among=events_for_user(actor) if actor is not None else Event.objects.none(),
    )
    return FiledEvent(event=event, duplicates=duplicates)


def _category_from_text(
    acting: Acting, title: str, description: str, source: str, grid: OrgUnit
) -> tuple[Category, dict[str, Any]]:
    """The model's category for a report without one: an operator's choice to leave it to the model
    (the one who then owns the event's dispatch; a grid worker or a system names its category)."""
    if acting.user is None or unit_grant(acting.user, "operate_event", grid) is None:
        raise InvalidInput({"category": _("Choose a category.")})
    found, category_by = category_by_model(title=title, description=description, source=source, grid=grid)
    if found is None:
        raise InvalidInput(
            {"category": model_unavailable() or _("Choose a category: the model found none from this text.")}
        )
    return found, category_by


def _category_note(category: Category, category_by: dict[str, Any]) -> str:
    if not category_by:
        return ""
    return _("Category %(name)s chosen by the model from the text (confidence %(c).2f)") % {
        "name": category.name,
        "c": category_by["confidence"],
    }


def route_new_event(event: Event, new: NewEvent, at: datetime) -> Decision:
    """Run the routing rules on an event being filed, before it is written.

    auto → dispatched at once by the system (派遣: the same `apply_dispatch` an operator's dispatch
    runs, as a second change of the new event); suggest → a suggestion for the operator, written
    with the event; no match → it waits for the operators that own it.
    """
    decision = route(situation_of(event))
    winner = decision.winner
    if winner is None or winner.department is None:  # a winner always names its department
        dispatch_by_model(event, new, at)
        return decision
    rule, department = winner.rule, winner.department
    co = list(dict.fromkeys(decision.co_departments))
    if rule.mode == RoutingMode.AUTO:
        note = optional_text(_("Auto-dispatched by rule %(rule)s") % {"rule": rule.name}, "note")
        from_state, data = apply_dispatch(SYSTEM, event, department, co, at)
        new.co_departments = co
        new.add("dispatch", SYSTEM, from_state=from_state, at=at, reason=note, data=data)
    else:
        new.suggest(RoutingSuggestion(event=event, rule=rule, department=department), co)
    return decision
