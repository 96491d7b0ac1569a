"""From warning to work order (预警 → 工单): filing, grouping, level changes and the lift on the event.

A warning firing at or above its indicator's `event_level` files exactly one event through the normal
intake (source 感知设备, the indicator's category, the sensor's place, urgency from the level), routed by
the normal rules and timed from filing (wall clock); the first history record keeps the warning's
`fired_at`. Warnings of one root cause join that event (vitals.muting.group_event); a muted warning
(inhibition, silence) files nothing and says why. Level changes go on the same event's history (red
raises the urgency to critical and tells the supervisors); the lift adds a note, and the department
still reports and someone verifies. A sensor that falls silent raises a device-fault warning for its
owner department, never an event.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch.sla import retime_for_urgency
from incidents.models import OPEN_STATES, Event, Source, Urgency
from incidents.permissions import SYSTEM
from operations.outbox import outbox_put
from operations.services._base import commit, locked_event
from operations.services.intake import event_file
from vitals.levels import RED, at_least
from vitals.models import Level, Sensor, VitalWarning, WarningAction, WarningKind, WarningRecord, WarningState
from vitals.muting import group_event, muted_by
from vitals.store import any_of

LEVEL_URGENCY: dict[str, int] = {
    Level.BLUE: Urgency.NORMAL,
    Level.YELLOW: Urgency.NORMAL,
    Level.ORANGE: Urgency.URGENT,
    Level.RED: Urgency.CRITICAL,
}


def warning_record(
    warning: VitalWarning, action: str, at: datetime, *, value: float | None, from_level: str = "", **data: object
) -> WarningRecord:
    return WarningRecord.objects.create(
        warning=warning, action=action, at=at, level=warning.level, from_level=from_level, value=value, data=data
    )


def _warning_facts(warning: VitalWarning, value: float | None) -> dict[str, object]:
    return {
        "id": warning.pk,
        "indicator": warning.indicator.code,
        "sensor": warning.sensor.code,
        "level": warning.level,
        "started_at": timezone.localtime(warning.started_at).isoformat(),
        "fired_at": timezone.localtime(warning.fired_at).isoformat() if warning.fired_at else None,
        "value": value,
    }


def _raise_urgency(event: Event, level: str, now: datetime) -> dict[str, object]:
    """Red raises an open event's urgency to critical, and its running clocks are timed again under the
    critical limits where those are shorter (dispatch.sla.retime_for_urgency). Returns what goes on the
    history record: the urgency's change and the clocks moved."""
    if level != RED or event.state not in OPEN_STATES or event.urgency >= Urgency.CRITICAL:
        return {}
    before = event.urgency
    event.urgency = Urgency.CRITICAL
    return {"urgency": {"from": before, "to": event.urgency}, "retimed": retime_for_urgency(event, now)}


def warning_file(warning: VitalWarning, at: datetime, value: float | None) -> Event | None:
    """File or join the warning's event if it now may (firing, at or above event_level, not muted)."""
    indicator = warning.indicator
    if (
        warning.event_id is not None
        or warning.state != WarningState.FIRING
        or indicator.category_id is None
        or not at_least(warning.level, indicator.event_level)
    ):
        return None
    if why := muted_by(warning, at):
        if warning.muted != why:
            warning.muted = why
            warning.save(update_fields=["muted"])
            warning_record(warning, WarningAction.MUTE, at, value=value, by=why)
        return None
    warning.muted = ""
    sensor: Sensor = warning.sensor
    facts = _warning_facts(warning, value)
    if (joined := group_event(warning)) is not None:
        with locked_event(joined.pk) as event:
            now = timezone.now()
            raised = _raise_urgency(event, warning.level, now)
            commit(event, SYSTEM, "warning_join", from_state=event.state, data={"warning": facts, **raised}, at=now)
        warning.event = event
        warning.save(update_fields=["event", "muted"])
        warning_record(warning, WarningAction.JOIN, at, value=value, event=event.code)
        return event
    title = _("%(level)s warning: %(indicator)s at %(sensor)s") % {
        "level": Level(warning.level).label,
        "indicator": indicator.name,
        "sensor": sensor.name,
    }
    description = _("Sensor %(sensor)s read %(value)s %(unit)s at %(at)s (warning fired at %(fired)s).") % {
        "sensor": sensor.code,
        "value": f"{value:g}" if value is not None else "—",
        "unit": indicator.unit,
        "at": at.isoformat(),
        "fired": warning.fired_at.isoformat() if warning.fired_at else "—",
    }
    filed = event_file(
        actor=None,
        acting=SYSTEM,
        title=title[:120],
        description=description,
        category=indicator.category,  # not None: checked above
        latitude=sensor.latitude,
        longitude=sensor.longitude,
        urgency=LEVEL_URGENCY[warning.level],
        source=Source.SENSOR,
        record_data={"warning": facts},
    )
    warning.event = filed.event
    warning.save(update_fields=["event", "muted"])
    warning_record(warning, WarningAction.FILE, at, value=value, event=filed.event.code)
    return filed.event


def warning_level_changed(warning: VitalWarning, from_level: str, at: datetime, value: float | None) -> None:
    """A firing warning's level moved: on its event's history (red: critical, supervisors told), or file now."""
    if warning.event_id is None:
        warning_file(warning, at, value)
        return
    with locked_event(warning.event_id) as event:
        now = timezone.now()
        raised = _raise_urgency(event, warning.level, now)
        action = "warning_red" if warning.level == RED else "warning_change"
        commit(
            event,
            SYSTEM,
            action,
            from_state=event.state,
            data={"warning": _warning_facts(warning, value), "from_level": from_level, "at": at.isoformat(), **raised},
            at=now,
        )


def warning_lifted(warning: VitalWarning, at: datetime, value: float | None) -> None:
    """The warning is lifted (解除): a note on its event; the department still reports, someone verifies."""
    if warning.event_id is None:
        return
    with locked_event(warning.event_id) as event:
        commit(
            event,
            SYSTEM,
            "warning_lift",
            from_state=event.state,
            reason=_("Warning lifted at %(at)s: the readings are back past the recovery value.")
            % {"at": at.isoformat()},
            data={"warning": _warning_facts(warning, value), "resolved_at": at.isoformat()},
        )


def device_fault_raise(sensor: Sensor, silent_since: datetime, now: datetime) -> VitalWarning:
    """A sensor silent past its indicator's no-data limit: a device-fault warning for its owner department."""
    warning = VitalWarning.objects.create(
        indicator_id=sensor.indicator_id,
        sensor=sensor,
        kind=WarningKind.NODATA,
        level=Level.BLUE,
        state=WarningState.FIRING,
        started_at=silent_since,
        fired_at=now,
        area_path=sensor.area_path,
    )
    warning_record(warning, WarningAction.ISSUE, now, value=None, silent_since=silent_since.isoformat())
    outbox_put(
        "vitals.nodata",
        payload={
            "warning": warning.pk,
            "sensor": sensor.code,
            "department": sensor.owner_department.code if sensor.owner_department else None,
            "silent_since": silent_since.isoformat(),
        },
    )
    return warning


def device_fault_lift(sensor_ids: list[int], now: datetime) -> int:
    """The next reading lifts a sensor's device-fault warning."""
    lifted = 0
    open_faults = VitalWarning.objects.filter(
        any_of("sensor_id", sensor_ids, "bigint"), kind=WarningKind.NODATA, state=WarningState.FIRING
    ).select_related("sensor")
    for warning in open_faults:
        warning.state, warning.resolved_at = WarningState.RESOLVED, now
        warning.save(update_fields=["state", "resolved_at"])
        warning_record(warning, WarningAction.LIFT, now, value=None)
        lifted += 1
    return lifted


__all__ = [
    "LEVEL_URGENCY",
    "device_fault_lift",
    "device_fault_raise",
    "warning_file",
    "warning_level_changed",
    "warning_lifted",
    "warning_record",
]
