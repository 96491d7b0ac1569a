"""The learned model at intake (智能分拨): the category of a report filed without one, and dispatch by
the model when no routing rule decided.

A report without a category (an operator's free text, 热线 or console) is filed under the model's top
suggestion (`category_by_model`); the first history record says so, with the confidence and the
model's trained-at. Dispatch by the model is off by default: only a category with an enabled
`ModelDispatchThreshold` runs the model at all. At or above the threshold the event is dispatched
through the normal dispatch service as the system, the model's decision and confidence recorded in
its history; below it, a suggestion is stored for the operator. Without a usable model nothing
happens (routing rules alone).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from accounts.models import OrgUnit
from dispatch.learning.store import current
from dispatch.learning.suggest import learned_department, suggest
from dispatch.models import ModelDispatchThreshold, RoutingSuggestion
from incidents.models import Category, Event
from incidents.permissions import SYSTEM
from operations.services._base import NewEvent
from operations.services.lifecycle import apply_dispatch


def model_unavailable() -> str:
    """Why the model cannot choose a category now (empty when it can): read before anything is checked,
    so the message stands beside the category field with the form's other errors."""
    if current() is None:
        return _("Choose a category: no dispatch model is trained yet, so it cannot be chosen from the text.")
    return ""


def category_by_model(
    *, title: str, description: str, source: str, grid: OrgUnit
) -> tuple[Category | None, dict[str, Any]]:
    """The model's top category for a report filed without one, and what the first history record keeps
    of the choice (`category_by`); None when the model is gone or suggests nothing from this text."""
    found, model = suggest(title=title, description=description, source=source, grid=grid, limit=3)
    if not found or model is None:
        return None, {}
    best = found[0]
    return best.category, {
        "by": "model",
        "confidence": best.confidence,
        "model_trained_at": model.meta.get("trained_at"),
        "words": best.words,
        "alternatives": [{"category": s.category.code, "confidence": s.confidence} for s in found[1:]],
    }


def dispatch_by_model(event: Event, new: NewEvent, at: datetime) -> str:
    """Called by `route_new_event` when no rule decided, on the event being filed (not yet written: the
    dispatch is its second change, as a rule's is). Returns "dispatched", "suggested" or "" (nothing)."""
    setting = ModelDispatchThreshold.objects.filter(category_id=event.category_id, is_enabled=True).first()
    if setting is None:
        return ""
    department, confidence, model = learned_department(
        category=event.category,
        grid=event.grid,
        title=event.title,
        description=event.description,
        source=event.source,
    )
    if department is None or model is None:
        return ""
    if confidence >= setting.threshold:
        from_state, data = apply_dispatch(SYSTEM, event, department, [], at)
        data["decided_by"] = {
            "by": "model",
            "confidence": confidence,
            "threshold": setting.threshold,
            "model_trained_at": model.meta.get("trained_at"),
        }
        note = _("Dispatched by the model (confidence %(c).2f)") % {"c": confidence}
        new.add("dispatch", SYSTEM, from_state=from_state, at=at, reason=note, data=data)
        return "dispatched"
    new.suggest(RoutingSuggestion(event=event, rule=None, department=department, confidence=confidence), [])
    return "suggested"
