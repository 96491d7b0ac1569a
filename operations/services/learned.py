"""Dispatch by the learned model at intake (智能分拨自动派发), when no routing rule decided.

Off by default: only a category with an enabled `ModelDispatchThreshold` runs the model at all. At or
above the threshold the event is dispatched through the normal dispatch service as the system, the
model's decision and confidence recorded in its history; below it, a suggestion is stored for the
operator. Without a usable model nothing happens (routing rules alone).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from dispatch.learning.suggest import learned_department
from dispatch.models import ModelDispatchThreshold, RoutingSuggestion
from incidents.models import Event
from incidents.permissions import SYSTEM
from operations.services.lifecycle import event_dispatch


def dispatch_by_model(event: Event) -> str:
    """Called by `route_new_event` when no rule decided. Returns "dispatched", "suggested" or "" (nothing)."""
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
        event_dispatch(
            actor=None,
            acting=SYSTEM,
            event_id=event.pk,
            department=department,
            note=_("Dispatched by the model (confidence %(c).2f)") % {"c": confidence},
            decided_by={
                "by": "model",
                "confidence": confidence,
                "threshold": setting.threshold,
                "model_trained_at": model.meta.get("trained_at"),
            },
        )
        return "dispatched"
    RoutingSuggestion.objects.update_or_create(
        event=event, defaults={"rule": None, "department": department, "confidence": confidence}
    )
    return "suggested"
