"""Receiving readings (体征数据接入): store a batch and evaluate the rules in the same pass.

In one transaction: lock the batch's sensors (so concurrent batches of one sensor queue), drop the
repeated (sensor, at) pairs (the first copy in the batch wins; one already stored is a duplicate),
store the rest in bulk (COPY on PostgreSQL), run each sensor's readings through vitals.rules in `at`
order (older than its last evaluated reading: stored, not evaluated, "late"), apply the transitions to
the warnings in reading-time order across the batch, and file or update their events
(operations.services.warnings). Every row is exactly one of accepted, duplicates, late or rejected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.errors import NotPermitted, ServiceError
from operations.services.warnings import (
    device_fault_lift,
    warning_file,
    warning_level_changed,
    warning_lifted,
    warning_record,
)
from vitals import rules, store
from vitals.batch import MAX_ROWS, Row, RowError, check_rows
from vitals.models import Indicator, Sensor, VitalWarning, WarningAction, WarningKind, WarningState
from vitals.selectors import reading_scope_q
from vitals.store import Held


class BatchTooLarge(ServiceError):
    code = "too_large"
    status = 413


@dataclass
class Received:
    """The answer to a batch: every row is counted once."""

    accepted: int = 0
    duplicates: int = 0
    late: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    transitions: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "late": self.late,
            "rejected": self.rejected,
            "errors": [e.as_dict() for e in sorted(self.errors, key=lambda e: e.row)],
        }


def readings_receive(*, actor: User, rows: Sequence[object], now: datetime | None = None) -> Received:
    """Store and evaluate a batch of at most 10,000 readings from an administrator or a 接入方 integrator."""
    scope = reading_scope_q(actor)
    if scope is None:
        raise NotPermitted(_("Only administrators and integrators (接入方) send readings."))
    return _receive(rows, scope, now)


def readings_receive_system(rows: Sequence[object], now: datetime | None = None) -> Received:
    """The same for the system's own jobs (virtual sensors such as the civic-demand stream)."""
    return _receive(rows, Q(), now)


def _receive(rows: Sequence[object], scope: Q, now: datetime | None) -> Received:
    if len(rows) > MAX_ROWS:
        raise BatchTooLarge(
            _("A batch holds at most %(max)d readings; this one has %(n)d. Nothing was stored.")
            % {"max": MAX_ROWS, "n": len(rows)}
        )
    good, errors = check_rows(rows)
    result = Received(errors=errors)
    now = now or timezone.now()
    with transaction.atomic():
        # Tuples, not model instances, for the thousands of sensors a batch names (vitals.store.Held).
        sensors = store.lock_sensors({r.sensor for r in good}, scope)
        batch = _by_sensor(good, sensors, result)
        store.insert_readings([(sensor_id, at, value) for sensor_id, new in batch.items() for at, value in new])
        held = {sensor.id: sensor for sensor in sensors.values()}  # in id order, as locked
        evaluated = _evaluate(batch, held, result)
        # Every locked sensor was named by a well-formed row: all of them were heard from.
        device_fault_lift(list(held), now)
        updates = [
            (sensor.id, *evaluated[sensor.id])
            if sensor.id in evaluated
            else (sensor.id, sensor.last_at, sensor.last_value)
            for sensor in sensors.values()
        ]
        store.save_sensor_state(updates, now)
    result.rejected = len(result.errors)
    return result


def _by_sensor(good: list[Row], sensors: dict[str, Held], result: Received) -> dict[int, list[rules.Reading]]:
    """The batch's new readings by sensor id: the first copy of each (sensor, at) in the batch and
    nothing already stored (both counted as duplicates); an unknown sensor's rows are errors.

    Grouped in one pass, so the per-sensor work (repeats, the stored check) runs once a sensor,
    not once a row: most sensors send one or two readings a batch."""
    batch: dict[int, list[rules.Reading]] = {}
    Reading = rules.Reading
    for row in good:
        sensor = sensors.get(row.sensor)
        if sensor is None:
            result.errors.append(RowError(row.row, "sensor", f"unknown sensor {row.sensor[:64]!r}"))
        elif (readings := batch.get(sensor.id)) is None:
            batch[sensor.id] = [Reading(row.at, row.value)]
        else:
            readings.append(Reading(row.at, row.value))
    maybe: list[tuple[int, datetime]] = []
    for sensor in sensors.values():
        readings = batch.get(sensor.id)
        if readings is None:
            continue
        if len(readings) > 1:
            unique = rules.first_copies(readings)
            if len(unique) < len(readings):
                result.duplicates += len(readings) - len(unique)
                batch[sensor.id] = readings = unique
        # Only a reading not newer than its sensor's last evaluated one can be stored already.
        if (last_at := sensor.last_at) is not None:
            maybe.extend((sensor.id, r.at) for r in readings if r.at <= last_at)
    stored = store.stored_pairs(maybe)
    for sensor_id in {sensor_id for sensor_id, _at in stored}:
        kept = [r for r in batch[sensor_id] if (sensor_id, r.at) not in stored]
        result.duplicates += len(batch[sensor_id]) - len(kept)
        if kept:
            batch[sensor_id] = kept
        else:
            del batch[sensor_id]
    return batch


def _evaluate(
    batch: dict[int, list[rules.Reading]], held: dict[int, Held], result: Received
) -> dict[int, tuple[datetime, float]]:
    """Run each sensor's new readings through its rule and apply the transitions; returns the last
    evaluated reading (at, value) of each sensor that had one."""
    if not batch:
        return {}
    indicators = store.indicators_of({held[sensor_id].indicator_id for sensor_id in batch})
    rule_of: dict[int, rules.Rule] = {pk: ind.rule() for pk, ind in indicators.items()}
    current: dict[int, VitalWarning | None] = dict(store.open_threshold_warnings(batch))
    planned: list[tuple[datetime, str, int, int, rules.Transition]] = []
    finals: dict[int, rules.State] = {}
    last: dict[int, tuple[datetime, float]] = {}
    evaluate, state_of = rules.evaluate, store.state_of
    for sensor_id, readings in batch.items():
        sensor = held[sensor_id]
        outcome = evaluate(rule_of[sensor.indicator_id], state_of(sensor.last_at, current.get(sensor_id)), readings)
        result.accepted += outcome.evaluated
        result.late += len(outcome.late)
        finals[sensor_id] = outcome.state
        if outcome.last is not None:
            last[sensor_id] = (outcome.last.at, outcome.last.value)
        if outcome.transitions:
            planned.extend((t.at, sensor.code, i, sensor_id, t) for i, t in enumerate(outcome.transitions))
    # Reading-time order across the batch: grouping and inhibition see the warnings as they were then.
    planned.sort(key=lambda p: (p[0], p[1], p[2]))
    full = store.sensors_of(p[3] for p in planned) if planned else {}
    for _at, _code, _i, sensor_id, transition in planned:
        whole = full[sensor_id]
        current[sensor_id] = _apply(whole, indicators[whole.indicator_id], current.get(sensor_id), transition)
        result.transitions += 1
    running = []
    for sensor_id, state in finals.items():
        warning = current.get(sensor_id)
        if warning is None or state.open is None:
            continue
        warning.level, warning.peak_value = state.open.level, state.open.peak
        warning.last_value = last[sensor_id][1] if sensor_id in last else held[sensor_id].last_value
        running.append(warning)
    store.save_open_warnings(running)
    return last


def _apply(
    sensor: Sensor, indicator: Indicator, warning: VitalWarning | None, t: rules.Transition
) -> VitalWarning | None:
    """One transition onto the warning rows and, through the warning services, the events."""
    if t.kind == rules.START:
        warning = VitalWarning.objects.create(
            indicator=indicator,
            sensor=sensor,
            kind=WarningKind.THRESHOLD,
            level=t.level,
            state=WarningState.PENDING,
            started_at=t.started_at,
            peak_value=t.peak,
            last_value=t.value,
            area_path=sensor.area_path,
        )
        return warning
    if warning is None:  # the evaluator only moves a warning it was given or started
        raise RuntimeError(f"transition {t.kind} without an open warning on sensor {sensor.code}")
    warning.indicator, warning.sensor = indicator, sensor
    warning.level, warning.peak_value, warning.last_value = t.level, t.peak, t.value
    if t.kind == rules.CLEAR:
        warning.delete()  # never fired: no 发布, nothing to keep
        return None
    if t.kind == rules.FIRE:
        warning.state, warning.fired_at = WarningState.FIRING, t.fired_at
        warning.save()
        warning_record(warning, WarningAction.ISSUE, t.at, value=t.value)
        warning_file(warning, t.at, t.value)
        return warning
    if t.kind == rules.CHANGE:
        warning.save()
        warning_record(warning, WarningAction.CHANGE, t.at, value=t.value, from_level=t.from_level or "")
        warning_level_changed(warning, t.from_level or "", t.at, t.value)
        return warning
    # RESOLVE: the level stays the last firing level.
    warning.state, warning.resolved_at = WarningState.RESOLVED, t.at
    warning.save()
    warning_record(warning, WarningAction.LIFT, t.at, value=t.value)
    warning_lifted(warning, t.at, t.value)
    return None


__all__ = ["BatchTooLarge", "Received", "readings_receive", "readings_receive_system"]
