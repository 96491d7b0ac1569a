"""vitals.rules on its own (no database; the import contracts keep it pure): the settled semantics,
and a replay split into any batches gives one answer."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vitals.rules import Outcome, Reading, Rule, State, evaluate, rule_problems, step

T0 = datetime(2026, 7, 1, tzinfo=UTC)
DEPTH = Rule.build("above", {"blue": 5, "yellow": 10, "orange": 20, "red": 30}, for_minutes=10)


def readings(values, step=5):
    return [Reading(T0 + timedelta(minutes=i * step), float(v)) for i, v in enumerate(values)]


def kinds(outcome):
    return [(t.kind, int((t.at - T0).total_seconds() // 60), t.level) for t in outcome.transitions]


def test_the_issue_series():
    out = evaluate(DEPTH, State(), readings([0, 4, 6, 8, 12, 15, 25, 35, 35, 20, 10, 4, 2]))
    assert kinds(out) == [
        ("start", 10, "blue"),
        ("fire", 20, "yellow"),
        ("change", 30, "orange"),
        ("change", 35, "red"),
        ("change", 45, "orange"),
        ("change", 50, "yellow"),
        ("resolve", 55, "yellow"),
    ]
    assert out.transitions[-1].peak == 35 and out.state.open is None and out.evaluated == 13


def test_equal_is_past_and_recovery_is_strict():
    rule = Rule.build("above", {"yellow": 10}, for_minutes=0, recovery=8)
    out = evaluate(rule, State(), readings([10, 8, 7.99]))
    assert kinds(out) == [("start", 0, "yellow"), ("fire", 0, "yellow"), ("resolve", 10, "yellow")]


def test_below_mirrors_above():
    rule = Rule.build("below", {"blue": 0.3, "red": 0.1}, for_minutes=0)
    out = evaluate(rule, State(), readings([0.31, 0.3, 0.1, 0.2, 0.3, 0.300001]))
    assert kinds(out) == [("start", 5, "blue"), ("fire", 5, "blue"), ("change", 10, "red"),
                          ("change", 15, "blue"), ("resolve", 25, "blue")]  # fmt: skip
    assert out.transitions[-1].peak == 0.1


def test_fires_at_the_first_reading_at_least_for_after_the_start_not_on_a_clock():
    # Readings 7 minutes apart: held 10 minutes only at the second reading after the start (t=14).
    out = evaluate(DEPTH, State(), readings([12, 12, 12], step=7))
    assert kinds(out) == [("start", 0, "yellow"), ("fire", 14, "yellow")]
    assert out.transitions[-1].fired_at == T0 + timedelta(minutes=14)


def test_a_pending_warning_clears_when_a_reading_is_past_no_threshold():
    out = evaluate(DEPTH, State(), readings([12, 4, 12]))
    assert kinds(out) == [("start", 0, "yellow"), ("clear", 5, "yellow"), ("start", 10, "yellow")]


def test_late_and_repeated_readings():
    first = evaluate(DEPTH, State(), readings([1, 2, 3]))
    late = Reading(T0 + timedelta(minutes=7), 99)
    again = Reading(T0 + timedelta(minutes=15), 1)
    copy = Reading(T0 + timedelta(minutes=15), 99)  # the same `at` again: the first copy wins
    out = evaluate(DEPTH, first.state, [late, again, copy])
    assert out.late == (late,) and out.evaluated == 1 and out.transitions == ()


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("up", {"red": 1}), "direction"),
        (("above", {}), "thresholds"),
        (("above", {"red": 1, "yellow": 2}), "thresholds"),
        (("below", {"blue": 1, "red": 2}), "thresholds"),
        (("above", {"yellow": 2}, -1), "for_minutes"),
        (("above", {"yellow": 2}, 0, 3), "recovery"),
        (("below", {"yellow": 2}, 0, 1), "recovery"),
        (("above", {"yellow": True}), "thresholds"),
    ],
)
def test_rule_problems_name_the_field(args, field):
    assert field in rule_problems(*args)


values = st.lists(st.sampled_from([0, 3, 5, 7, 10, 15, 20, 25, 30, 40]), min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(values=values, cuts=st.lists(st.integers(min_value=0, max_value=40), max_size=5), seed=st.integers())
def test_any_split_into_batches_and_any_shuffle_inside_them_gives_the_same_transitions(values, cuts, seed):
    series = readings(values)
    whole = evaluate(DEPTH, State(), series)
    state, transitions = State(), []
    bounds = sorted({0, len(series), *(c for c in cuts if c < len(series))})
    rng = random.Random(seed)
    for low, high in pairwise(bounds):
        batch = series[low:high]
        rng.shuffle(batch)
        out = evaluate(DEPTH, state, batch)
        state, transitions = out.state, transitions + list(out.transitions)
    assert transitions == list(whole.transitions) and state == whole.state


def folded(rule, state, batch):
    """The definition evaluate() implements, reading by reading: first copy of each `at`, in `at`
    order, late ones set aside, every other reading through `step` (no shortcut)."""
    firsts = {}
    for reading in batch:
        firsts.setdefault(reading.at, reading)
    warning, last_at, transitions, late, evaluated, last = state.open, state.last_at, [], [], 0, None
    for reading in sorted(firsts.values(), key=lambda r: r.at):
        if last_at is not None and reading.at <= last_at:
            late.append(reading)
            continue
        warning, changes = step(rule, warning, reading)
        transitions += changes
        last_at, evaluated, last = reading.at, evaluated + 1, reading
    return Outcome(State(last_at, warning), tuple(transitions), evaluated, tuple(late), last)


BELOW_RULE = Rule.build("below", {"blue": 0.3, "yellow": 0.2, "red": 0.1}, for_minutes=0, recovery=0.35)


@settings(max_examples=300, deadline=None)
@given(
    rule=st.sampled_from([DEPTH, BELOW_RULE, Rule.build("above", {"red": 30})]),
    before=st.lists(st.integers(min_value=0, max_value=40), max_size=6),
    batch=st.lists(
        st.tuples(st.integers(min_value=0, max_value=12), st.integers(min_value=0, max_value=40)), max_size=8
    ),
)
def test_evaluate_equals_stepping_through_every_reading(rule, before, batch):
    # A state left by earlier readings (maybe an open warning), then a batch with repeats and late ones.
    scale = 0.01 if rule is BELOW_RULE else 1.0
    state = folded(rule, State(), readings([v * scale for v in before])).state
    series = [Reading(T0 + timedelta(minutes=minute * 5), value * scale) for minute, value in batch]
    assert evaluate(rule, state, series) == folded(rule, state, series)
