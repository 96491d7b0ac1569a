"""Which work order a firing warning belongs to, and whether it may file one (Alertmanager's grouping,
inhibition and silences, for a city).

- Grouping (one root cause, one work order): a warning joins the open event of another warning of the
  same indicator in the same grid whose firing time lies within the indicator's `group_minutes` of its own.
- Inhibition: while a warning of the inhibiting indicator fires at or above its level on a sensor in the
  same unit of the inhibition's tier (e.g. the same district), the muted indicator's warnings file nothing.
- Silence: warnings firing (in reading time) inside a silence's window, on the sensors it matches, file nothing.
A muted warning is still recorded, with what muted it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q

from incidents.models import OPEN_STATES, Event
from vitals.levels import LEVELS, SEVERITY
from vitals.models import Inhibition, Silence, VitalWarning, WarningKind, WarningState


def _area_prefix(path: str, tier: int) -> str:
    codes = [c for c in path.split("/") if c]
    return "".join(f"{c}/" for c in codes[:tier])


def inhibited_by(warning: VitalWarning) -> Inhibition | None:
    """The active inhibition that mutes this warning now, if any."""
    candidates = Inhibition.objects.filter(is_active=True).filter(
        Q(target_id=warning.indicator_id) | (Q(target__isnull=True) & ~Q(source_id=warning.indicator_id))
    )
    for inhibition in candidates.order_by("pk"):
        strong = [lvl for lvl in LEVELS if SEVERITY[lvl] >= SEVERITY[inhibition.source_level]]
        firing = VitalWarning.objects.filter(
            indicator_id=inhibition.source_id,
            kind=WarningKind.THRESHOLD,
            state=WarningState.FIRING,
            level__in=strong,
            area_path__startswith=_area_prefix(warning.area_path, inhibition.scope_tier),
        ).exclude(pk=warning.pk)
        if firing.exists():
            return inhibition
    return None


def silenced_by(warning: VitalWarning, at: datetime) -> Silence | None:
    """The silence covering this warning at reading time `at`, if any."""
    for silence in Silence.objects.filter(starts_at__lte=at, ends_at__gt=at).select_related("area").order_by("pk"):
        if silence.indicator_id is not None and silence.indicator_id != warning.indicator_id:
            continue
        if silence.sensor_id is not None and silence.sensor_id != warning.sensor_id:
            continue
        if silence.area is not None and not warning.area_path.startswith(silence.area.path):
            continue
        return silence
    return None


def muted_by(warning: VitalWarning, at: datetime) -> str:
    """Why this warning may not file an event at `at` ("" when nothing mutes it)."""
    if silence := silenced_by(warning, at):
        return f"silence:{silence.pk}"
    if inhibition := inhibited_by(warning):
        return f"inhibition:{inhibition.pk}"
    return ""


def group_event(warning: VitalWarning) -> Event | None:
    """The open event of a warning of the same indicator and grid that fired within the grouping window."""
    if warning.fired_at is None:
        return None
    window = timedelta(minutes=warning.indicator.group_minutes)
    other = (
        VitalWarning.objects.filter(
            indicator_id=warning.indicator_id,
            kind=WarningKind.THRESHOLD,
            area_path=warning.area_path,
            event__isnull=False,
            event__state__in=list(OPEN_STATES),
            fired_at__gte=warning.fired_at - window,
            fired_at__lte=warning.fired_at + window,
        )
        .exclude(pk=warning.pk)
        .select_related("event")
        .order_by("fired_at", "pk")
        .first()
    )
    return other.event if other is not None else None
