"""Dispatch by the learned model at intake (智能分拨自动派发), when no routing rule decided.

Off by default: only a category with an enabled `ModelDispatchThreshold` runs the model at all. At or
above the threshold the event is dispatched through the normal dispatch service as the system, the
model's decision and confidence recorded in its history; below it, a suggestion is stored for the
operator. Without a usable model nothing happens (routing rules alone).
"""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _

from dispatch.learning.suggest import learned_department
from dispatch.models import ModelDispatchThreshold, RoutingSuggestion
from incidents.models import Event
from incidents.permissions import SYSTEM
from operations.services._base import NewEvent
from operations.services.lifecycle import apply_dispatch


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
