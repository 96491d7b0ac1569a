"""What the public reads of our events through Open311: services, requests and their updates.

Reads carry no personal data (no reporter, no contact, no internal reason). Status is "open" or
"closed"; status_notes, agency_responsible (the lead department) and expected_datetime (the
overall deadline) come from the lifecycle and the time-limit clocks. Public text is only the
department's result, the closing note and a fixed note per state: reasons for returns,
reopening, refusals or invalidation stay internal. media_url stays empty: our photos are
served only to signed-in people who may see the event (interfaces.attachments).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from dispatch.models import SlaClock
from incidents.models import OPEN_STATES, Category, Event, EventRecord, State, Urgency

from .render import iso

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


def service(category: Category) -> dict[str, Any]:
    """A category subclass (小类) as an Open311 service, grouped by its major class."""
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.name_en or category.name,
        "metadata": True,
        "type": "realtime",
        "keywords": ",".join(category.keywords.split()),
        "group": category.parent.name if category.parent_id else "",
    }


def overall_due(event: Event) -> datetime | None:
    """The overall deadline of the event's latest overall clock, if it has one."""
    clock = SlaClock.objects.filter(event=event, step="overall").order_by("-id").first()
    return clock.due_at if clock else None


def status_notes(event: Event) -> str:
    """The public note of the state, and the department's result once there is one; internal reasons stay internal."""
    note = public_status_note(event.state)
    if event.state in (State.HANDLED, State.VERIFIED, State.CLOSED) and event.result_note:
        note += " " + _("Result: %(note)s") % {"note": event.result_note}
    return note[:1000]


def update_description(record: EventRecord) -> str:
    """The result or closing note where one was written for the public; else the state's fixed note."""
    if record.action in PUBLIC_TEXT_ACTIONS and record.reason.strip():
        return record.reason[:DESCRIPTION_MAX]
    return public_status_note(record.to_state)


def service_request(event: Event) -> dict[str, Any]:
    """An event as an Open311 service request."""
    return {
        "service_request_id": event.code,
        "status": "open" if event.state in OPEN_STATES else "closed",
        "status_notes": status_notes(event),
        "service_name": event.category.name,
        "service_code": event.category.code,
        "description": event.description[:DESCRIPTION_MAX],
        "agency_responsible": event.lead_department.name if event.lead_department else "",
        "service_notice": "",
        "requested_datetime": iso(event.reported_at),
        "updated_datetime": iso(event.updated_at),
        "expected_datetime": iso(overall_due(event)),
        "address": event.address,
        "address_id": "",
        "zipcode": "",
        "lat": event.latitude,
        "long": event.longitude,
        "media_url": "",
    }


def service_request_update(record: EventRecord) -> dict[str, Any]:
    """A public state change as a FixMyStreet service request update."""
    return {
        "update_id": f"{record.event_id}_{record.seq}",
        "service_request_id": record.event.code,
        "status": UPDATE_STATUS.get(record.to_state, "open"),
        "updated_datetime": iso(record.created_at),
        "description": update_description(record),
        "media_url": "",
    }
