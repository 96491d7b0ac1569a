"""The warning rule evaluator (预警规则): pure, typed, no database.

Given an indicator's rule, a sensor's evaluation state and a batch of readings, `evaluate` returns the
new state and the transitions, in reading time (the readings' own `at`), so a replayed series gives the
same warnings whatever the wall clock. The semantics (issue #17, "Settled details"):

- a value equal to a threshold is past it: ≥ for `above`, ≤ for `below`;
- a warning is pending from the first reading past the least severe configured threshold; a pending
  warning whose condition stops holding (a reading past no threshold) clears and never fires;
- it fires at the first reading whose `at` is at least `for_minutes` after `started_at` (0 = at once),
  and `fired_at` is that reading's `at`;
- while firing the level is that of the latest reading, floored at the least severe configured level,
  until a reading is back past `recovery` (strictly below it for `above`, strictly above for `below`:
  hysteresis); the default recovery is the least severe configured threshold;
- a resolved warning keeps its last firing level; `peak` is the most extreme value since `started_at`;
- readings are taken in `at` order; a repeated `at` keeps the first copy; a reading not newer than the
  last one evaluated is late: the caller stores it, the rule does not see it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import pairwise
from typing import NamedTuple

from vitals.levels import ABOVE, BELOW, DIRECTIONS, FIRING, LEVELS, PENDING

# Transition kinds, in the order they can happen to one warning.
START, FIRE, CHANGE, RESOLVE, CLEAR = "start", "fire", "change", "resolve", "clear"


@dataclass(frozen=True)
class Rule:
    """An indicator's rule: direction, configured thresholds (least severe first), `for`, recovery."""

    direction: str
    thresholds: tuple[tuple[str, float], ...]
    for_minutes: float = 0
    recovery: float = 0.0

    @classmethod
    def build(
        cls,
        direction: str,
        thresholds: Mapping[str, float | int | None],
        for_minutes: float | int = 0,
        recovery: float | int | None = None,
    ) -> Rule:
        problems = rule_problems(direction, thresholds, for_minutes, recovery)
        if problems:
            raise ValueError("; ".join(f"{k}: {v}" for k, v in problems.items()))
        ordered = tuple((level, float(v)) for level in LEVELS if (v := thresholds.get(level)) is not None)
        return cls(
            direction=direction,
            thresholds=ordered,
            for_minutes=float(for_minutes),
            recovery=float(recovery) if recovery is not None else ordered[0][1],
        )

    @property
    def least_level(self) -> str:
        return self.thresholds[0][0]

    def any_past(self, values: Iterable[float]) -> bool:
        """Whether some value is past some threshold (past the least severe one: thresholds are
        monotonic, rule_problems checks it)."""
        limit = self.thresholds[0][1]
        if self.direction == ABOVE:
            return any(value >= limit for value in values)
        return any(value <= limit for value in values)

    def past(self, value: float, limit: float) -> bool:
        return value >= limit if self.direction == ABOVE else value <= limit

    def level_of(self, value: float) -> str | None:
        """The most severe level whose threshold `value` is past, or None."""
        found = None
        # `past` inlined: this runs once per reading.
        if self.direction == ABOVE:
            for level, limit in self.thresholds:
                if value >= limit:
                    found = level
        else:
            for level, limit in self.thresholds:
                if value <= limit:
                    found = level
        return found

    def recovered(self, value: float) -> bool:
        return value < self.recovery if self.direction == ABOVE else value > self.recovery

    def more_extreme(self, a: float, b: float) -> float:
        return max(a, b) if self.direction == ABOVE else min(a, b)


def rule_problems(
    direction: str,
    thresholds: object,
    for_minutes: object = 0,
    recovery: object = None,
) -> dict[str, str]:
    """What is wrong with a rule, by field (empty when it is sound). Messages are English; channels translate."""
    problems: dict[str, str] = {}
    if direction not in DIRECTIONS:
        problems["direction"] = f"direction is one of {', '.join(DIRECTIONS)}"
    if not isinstance(thresholds, Mapping):
        problems["thresholds"] = 'an object such as {"blue": 5, "yellow": 10, "orange": 20, "red": 30}'
        return problems
    unknown = sorted(str(k) for k in thresholds if k not in LEVELS)
    if unknown:
        problems["thresholds"] = f"unknown level {', '.join(unknown)}; levels are {', '.join(LEVELS)}"
        return problems
    values: list[tuple[str, float]] = []
    for level in LEVELS:
        raw = thresholds.get(level)
        if raw is None:
            continue
        if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != raw or abs(raw) == float("inf"):
            problems["thresholds"] = f"{level} must be a finite number"
            return problems
        values.append((level, float(raw)))
    if not values:
        problems["thresholds"] = "configure at least one level"
        return problems
    if direction in DIRECTIONS:
        for (low, a), (high, b) in pairwise(values):
            if (direction == ABOVE and not b > a) or (direction == BELOW and not b < a):
                word = "above" if direction == ABOVE else "below"
                problems["thresholds"] = f"{high} must lie {word} {low} for an indicator that warns {word}"
                return problems
    if isinstance(for_minutes, bool) or not isinstance(for_minutes, int | float) or not 0 <= for_minutes <= 10080:
        problems["for_minutes"] = "a number of minutes from 0 to 10080"
    if recovery is not None:
        if isinstance(recovery, bool) or not isinstance(recovery, int | float) or recovery != recovery:
            problems["recovery"] = "a number"
        elif direction == ABOVE and recovery > values[0][1]:
            problems["recovery"] = f"recovery may not lie above the least severe threshold ({values[0][1]:g})"
        elif direction == BELOW and recovery < values[0][1]:
            problems["recovery"] = f"recovery may not lie below the least severe threshold ({values[0][1]:g})"
    return problems


@dataclass(frozen=True)
class Open:
    """The sensor's open warning: pending or firing."""

    state: str
    level: str
    started_at: datetime
    peak: float
    fired_at: datetime | None = None


@dataclass(frozen=True)
class State:
    """What the evaluator remembers per sensor between batches."""

    last_at: datetime | None = None
    open: Open | None = None


class Reading(NamedTuple):
    """One reading of one sensor (a tuple: the evaluator takes 10,000 a batch)."""

    at: datetime
    value: float


@dataclass(frozen=True)
class Transition:
    """One change of a warning, with the warning as it stands after it."""

    kind: str
    at: datetime
    value: float
    level: str
    from_level: str | None
    started_at: datetime
    peak: float
    fired_at: datetime | None


@dataclass(frozen=True)
class Outcome:
    state: State
    transitions: tuple[Transition, ...] = ()
    evaluated: int = 0
    late: tuple[Reading, ...] = field(default_factory=tuple)
    last: Reading | None = None  # the last reading evaluated (its at is state.last_at)


def _note(kind: str, reading: Reading, warning: Open, from_level: str | None = None) -> Transition:
    return Transition(
        kind=kind,
        at=reading.at,
        value=reading.value,
        level=warning.level,
        from_level=from_level,
        started_at=warning.started_at,
        peak=warning.peak,
        fired_at=warning.fired_at,
    )


def step(rule: Rule, warning: Open | None, reading: Reading) -> tuple[Open | None, list[Transition]]:
    """One reading against the open warning (or none): the warning after it and what changed."""
    value = reading.value
    if warning is None:
        level = rule.level_of(value)
        if level is None:
            return None, []
        warning = Open(state=PENDING, level=level, started_at=reading.at, peak=value)
        out = [_note(START, reading, warning)]
        if rule.for_minutes <= 0:
            warning = replace(warning, state=FIRING, fired_at=reading.at)
            out.append(_note(FIRE, reading, warning))
        return warning, out
    peak = rule.more_extreme(warning.peak, value)
    if warning.state == PENDING:
        level = rule.level_of(value)
        if level is None:
            return None, [_note(CLEAR, reading, replace(warning, peak=peak))]
        warning = replace(warning, level=level, peak=peak)
        if reading.at >= warning.started_at + timedelta(minutes=rule.for_minutes):
            warning = replace(warning, state=FIRING, fired_at=reading.at)
            return warning, [_note(FIRE, reading, warning)]
        return warning, []
    # Firing.
    if rule.recovered(value):
        return None, [_note(RESOLVE, reading, replace(warning, peak=peak))]
    level = rule.level_of(value) or rule.least_level
    if level != warning.level:
        before = warning.level
        warning = replace(warning, level=level, peak=peak)
        return warning, [_note(CHANGE, reading, warning, from_level=before)]
    return replace(warning, peak=peak), []


def _at(reading: Reading) -> datetime:
    return reading.at


def first_copies(readings: Sequence[Reading]) -> list[Reading]:
    """The readings without a repeated `at`: the first copy of each, in their order."""
    firsts: dict[datetime, Reading] = {}
    for reading in readings:
        firsts.setdefault(reading.at, reading)
    return list(firsts.values())


def evaluate(rule: Rule, state: State, readings: Sequence[Reading]) -> Outcome:
    """Run a batch of one sensor's readings through the rule, in `at` order.

    A repeated `at` keeps its first copy (the sort is stable); readings not newer than
    `state.last_at` are returned as late and not evaluated.
    """
    if not readings:
        return Outcome(state)
    # One reading is the common case of a batch: no repeats, nothing to sort.
    unique = list(readings) if len(readings) == 1 else sorted(first_copies(readings), key=_at)
    last_at = state.last_at
    late: list[Reading] = []
    if last_at is not None and unique[0].at <= last_at:  # sorted: the late ones come first
        late = [r for r in unique if r.at <= last_at]
        unique = unique[len(late) :]
    if not unique:
        return Outcome(state, (), 0, tuple(late), None)
    warning = state.open
    transitions: list[Transition] = []
    # With no open warning and no reading past a threshold nothing can happen (most sensors, most batches).
    if warning is not None or rule.any_past(r.value for r in unique):
        for reading in unique:
            warning, changes = step(rule, warning, reading)
            transitions.extend(changes)
    last = unique[-1]
    return Outcome(State(last.at, warning), tuple(transitions), len(unique), tuple(late), last)


__all__ = [
    "ABOVE",
    "BELOW",
    "CHANGE",
    "CLEAR",
    "FIRE",
    "RESOLVE",
    "START",
    "Open",
    "Outcome",
    "Reading",
    "Rule",
    "State",
    "Transition",
    "evaluate",
    "first_copies",
    "rule_problems",
    "step",
]
