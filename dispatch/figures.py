"""The report's figures computed live from events, history and clocks (the reference computation).

`compute` turns a set of events, their history facts and their clocks into additive `Figures`:
per area path (city-level figures: total and regions), per department (attributed from history,
see dispatch.evaluation), per dispatcher and per grid worker. Every figure is a sum over events
(an event's contribution depends on that event alone), so figures of disjoint event sets add up:
the daily roll-ups (dispatch.rollups) store the figures of each (report day, grid) and the report
sums them, and this module stays the live reference they are proven equal to.

Handling time is kept as a count, a sum in whole seconds (exact in any order of addition) and a
histogram over fixed buckets in working minutes, so mean and P90 come out the same from one pass or
from a thousand daily rows.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import BooleanField, Case, ExpressionWrapper, F, Q, QuerySet, When
from django.db.models.fields.json import KT, KeyTransform
from django.utils import timezone

from accounts.models import OrgUnit, Role
from dispatch.evaluation import Attribution, ClockStops, Fact, attribute
from dispatch.models import SlaClock, SlaStep
from incidents.models import OPEN_STATES, Event, EventRecord, State

# Upper bounds (working minutes) of the handling-time buckets: bucket i holds (edge[i-1], edge[i]];
# the last bucket holds everything above the last edge.
HISTOGRAM_EDGES: tuple[int, ...] = (15, 30, 60, 120, 240, 480, 960, 1440, 2400, 4800, 9600)
BUCKETS = len(HISTOGRAM_EDGES) + 1
NO_DEPARTMENT = "-"


def bucket_of(minutes: float) -> int:
    return bisect_left(HISTOGRAM_EDGES, minutes)


def histogram_p90_minutes(histogram: list[int]) -> float | None:
    """The upper bound of the bucket holding the nearest-rank 90th percentile (the last bucket,
    open above, reads as its lower bound). An exact P90 cannot be summed from daily rows; this one can."""
    count = sum(histogram)
    if not count:
        return None
    rank = max(math.ceil(0.9 * count), 1)
    seen = 0
    for index, n in enumerate(histogram):
        seen += n
        if seen >= rank:
            return float(HISTOGRAM_EDGES[min(index, len(HISTOGRAM_EDGES) - 1)])
    return float(HISTOGRAM_EDGES[-1])  # unreachable: seen reaches count


METRICS = [
    "received",
    "dispatched",
    "cases",
    "should_close",
    "closed",
    "closed_on_time",
    "overdue_open",
    "reworked",
    "overdue_now",
    "returns",
    "extensions",
    "suspensions",
    "urges",
    "accepts",
    "co_handled",
    "open_green",
    "open_yellow",
    "open_red",
]


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _zeros() -> list[int]:
    return [0] * BUCKETS


class Additive:
    """Rows whose integer fields (and histogram) add up across disjoint sets of events."""

    def _counters(self) -> tuple[str, ...]:
        """The integer fields (not key and label), found once per class: a report merges thousands."""
        cls = type(self)
        found = cls.__dict__.get("_counter_names")
        if found is None:
            found = tuple(f.name for f in fields(self) if f.type in ("int", int))  # type: ignore[arg-type]
            cls._counter_names = found  # type: ignore[attr-defined]
        return found

    def merge(self, other: Additive, sign: int = 1) -> None:
        for name in self._counters():
            setattr(self, name, getattr(self, name) + sign * getattr(other, name))
        if isinstance(self, Row) and isinstance(other, Row):
            self.handling_histogram = [
                a + sign * b for a, b in zip(self.handling_histogram, other.handling_histogram, strict=True)
            ]
            if sign > 0:
                self.handling_hours.extend(other.handling_hours)


@dataclass
class Row(Additive):
    key: str
    label: str
    received: int = 0  # reported (受理); for a department: events dispatched to it
    dispatched: int = 0  # dispatched at least once; for a department: dispatches it received
    cases: int = 0  # 立案: not invalidated, not merged
    closed: int = 0
    closed_on_time: int = 0
    overdue_open: int = 0  # 超期未结案数 (a department's 超期未处置数)
    reworked: int = 0  # events sent back for rework (a department's: while it was lead)
    reworked_due: int = 0  # of those, the ones counted in should_close: the 返工率 numerator
    overdue_now: int = 0
    returns: int = 0
    extensions: int = 0
    suspensions: int = 0
    urges: int = 0
    accepts: int = 0
    co_handled: int = 0
    open_green: int = 0
    open_yellow: int = 0
    open_red: int = 0
    # Handling time (working): count, exact sum in seconds, histogram over HISTOGRAM_EDGES.
    handling_count: int = 0
    handling_seconds: int = 0
    handling_histogram: list[int] = field(default_factory=_zeros, repr=False)
    # The individual times, filled by the live computation only (empty when read from roll-ups);
    # mean and P90 come from the three fields above either way.
    handling_hours: list[float] = field(default_factory=list, repr=False)

    def add_handling(self, minutes: float) -> None:
        self.handling_count += 1
        self.handling_seconds += round(minutes * 60)
        self.handling_histogram[bucket_of(minutes)] += 1
        self.handling_hours.append(minutes / 60)

    @property
    def should_close(self) -> int:
        return self.closed + self.overdue_open

    @property
    def closure_rate(self) -> float | None:
        return _ratio(self.closed, self.should_close)

    @property
    def on_time_rate(self) -> float | None:
        return _ratio(self.closed_on_time, self.should_close)

    @property
    def rework_rate(self) -> float | None:
        return _ratio(self.reworked_due, self.should_close)

    @property
    def mean_handling_hours(self) -> float | None:
        return self.handling_seconds / self.handling_count / 3600 if self.handling_count else None

    @property
    def p90_handling_hours(self) -> float | None:
        """The histogram P90 (see histogram_p90_minutes), in hours."""
        minutes = histogram_p90_minutes(self.handling_histogram)
        return None if minutes is None else minutes / 60

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"key": self.key, "label": self.label}
        out.update({name: getattr(self, name) for name in METRICS})
        out.update(
            closure_rate=self.closure_rate,
            on_time_rate=self.on_time_rate,
            rework_rate=self.rework_rate,
            mean_handling_hours=self.mean_handling_hours,
            p90_handling_hours=self.p90_handling_hours,
            # The department names of the same figures (应处置数, 处置数, ...), beside the shared ones.
            should_handle=self.should_close,
            handled=self.closed,
            handled_on_time=self.closed_on_time,
            handling_rate=self.closure_rate,
            on_time_handling_rate=self.on_time_rate,
            overdue_unhandled=self.overdue_open,
        )
        return out


@dataclass
class DispatcherRow(Additive):
    key: str
    label: str
    dispatches: int = 0
    timed_dispatches: int = 0
    on_time_dispatches: int = 0
    wrong_dispatches: int = 0

    @property
    def on_time_dispatch_rate(self) -> float | None:
        return _ratio(self.on_time_dispatches, self.timed_dispatches)

    @property
    def accurate_dispatch_rate(self) -> float | None:
        return _ratio(self.dispatches - self.wrong_dispatches, self.dispatches)

    def as_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "label": self.label,
            "dispatches": self.dispatches,
            "timed_dispatches": self.timed_dispatches,
            "on_time_dispatches": self.on_time_dispatches,
            "wrong_dispatches": self.wrong_dispatches,
            "on_time_dispatch_rate": self.on_time_dispatch_rate,
            "accurate_dispatch_rate": self.accurate_dispatch_rate,
        }


@dataclass
class GridWorkerRow(Additive):
    key: str
    label: str
    reports: int = 0
    valid_reports: int = 0
    verifications: int = 0
    timed_verifications: int = 0
    on_time_verifications: int = 0

    @property
    def valid_report_rate(self) -> float | None:
        return _ratio(self.valid_reports, self.reports)

    @property
    def on_time_verification_rate(self) -> float | None:
        return _ratio(self.on_time_verifications, self.timed_verifications)

    def as_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "label": self.label,
            "reports": self.reports,
            "valid_reports": self.valid_reports,
            "verifications": self.verifications,
            "timed_verifications": self.timed_verifications,
            "on_time_verifications": self.on_time_verifications,
            "valid_report_rate": self.valid_report_rate,
            "on_time_verification_rate": self.on_time_verification_rate,
        }


@dataclass
class Figures:
    """Additive figures of a set of events. `areas` is keyed by area path (or by the prefix the
    reader grouped on), `departments` by code (NO_DEPARTMENT for events that never had one),
    `dispatchers` by unit code (or evaluation.AUTO), `workers` by user id. A key is present when
    any event touched it, even with all figures zero: that decides which rows a report shows."""

    areas: dict[str, Row] = field(default_factory=dict)
    departments: dict[str, Row] = field(default_factory=dict)
    dispatchers: dict[str, DispatcherRow] = field(default_factory=dict)
    workers: dict[int, GridWorkerRow] = field(default_factory=dict)

    def area(self, key: str) -> Row:
        return self.areas.setdefault(key, Row(key, ""))

    def department(self, key: str) -> Row:
        return self.departments.setdefault(key, Row(key, ""))

    def dispatcher(self, key: str) -> DispatcherRow:
        return self.dispatchers.setdefault(key, DispatcherRow(key, ""))

    def worker(self, key: int) -> GridWorkerRow:
        return self.workers.setdefault(key, GridWorkerRow(str(key), ""))

    def merge(self, other: Figures, sign: int = 1) -> None:
        for key, row in other.areas.items():
            self.area(key).merge(row, sign)
        for key, row in other.departments.items():
            self.department(key).merge(row, sign)
        for key, d in other.dispatchers.items():
            self.dispatcher(key).merge(d, sign)
        for pk, w in other.workers.items():
            self.worker(pk).merge(w, sign)


EVENT_FIELDS = (
    "id",
    "state",
    "area_path",
    "closed_on_time",
    "handling_minutes",
    "light",
    "return_count",
    "extension_count",
    "suspension_count",
    "urge_count",
)


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Local calendar days [start, end] as aware instants [from, to)."""
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def event_rows(base: QuerySet[Event]) -> dict[int, dict[str, Any]]:
    return {
        ev["id"]: ev
        for ev in base.values(
            *EVENT_FIELDS,
            lead=F("lead_department__code"),
            dispatched_once=ExpressionWrapper(Q(first_dispatched_at__isnull=False), output_field=BooleanField()),
        )
    }


def overdue_events(base: QuerySet[Event], now: datetime) -> set[int]:
    """Open events whose latest overall clock is breached, or running (not paused) past its due time."""
    latest: dict[int, Mapping[str, Any]] = {}
    for clock in (
        SlaClock.objects.filter(event__in=base.filter(state__in=OPEN_STATES), step=SlaStep.OVERALL)
        .order_by("event_id", "id")
        .values("event_id", "breached_at", "stopped_at", "paused_at", "due_at")
    ):
        latest[clock["event_id"]] = clock
    return {
        eid
        for eid, c in latest.items()
        if c["breached_at"] is not None or (c["stopped_at"] is None and c["paused_at"] is None and c["due_at"] < now)
    }


def clock_stops(base: QuerySet[Event]) -> ClockStops:
    """Stopped dispatch and verification clocks, by the instant that stopped them (the record's time)."""
    stops: ClockStops = {}
    for c in SlaClock.objects.filter(
        event__in=base, step__in=[SlaStep.DISPATCH, SlaStep.VERIFY], stopped_at__isnull=False
    ).values("event_id", "step", "stopped_at", "breached_at"):
        if c["stopped_at"] is not None:  # filtered above; the row type cannot say so
            stops[(c["event_id"], c["step"], c["stopped_at"])] = c["breached_at"] is not None
    return stops


# The attribution reads a record's time only to find the clock it stopped (dispatch, verification),
# and its data only for the department it names: reading no more is most of the roll-up build's time.
TIMED_ACTIONS = ("dispatch", "redispatch", "verify_pass", "verify_fail")
UNTIMED = datetime(1970, 1, 1, tzinfo=UTC)  # stands for the time of a record no clock is matched to


def history_facts(base: QuerySet[Event]) -> list[Fact]:
    rows = (
        EventRecord.objects.filter(event__in=base)
        .order_by("event_id", "seq")
        .values_list(
            "event_id",
            "action",
            Case(When(action__in=TIMED_ACTIONS, then=F("created_at")), default=None),
            "actor_id",
            "actor_role",
            "actor_unit_id",
            KT("data__department"),
            KeyTransform("co_departments", "data"),
        )
    )
    units = dict(OrgUnit.objects.values_list("id", "code"))
    out = []
    for eid, action, at, actor, role, unit, department, co in rows:
        data: dict[str, object] = {}
        if department is not None:
            data["department"] = department
        if co is not None:
            data["co_departments"] = co
        out.append(Fact(eid, action, at or UNTIMED, actor, role, units.get(unit) if unit else None, data))
    return out


def _add_event(row: Row, ev: Mapping[str, Any], *, overdue: bool, reworked: bool) -> None:
    """The city-level figures of one event (total and regions)."""
    row.received += 1
    row.dispatched += bool(ev["dispatched_once"])
    if ev["state"] in (State.INVALIDATED, State.MERGED):
        return
    row.cases += 1
    closed = ev["state"] == State.CLOSED
    row.closed += closed
    row.closed_on_time += closed and bool(ev["closed_on_time"])
    row.overdue_open += overdue
    row.reworked += reworked
    row.reworked_due += reworked and (closed or overdue)
    row.returns += ev["return_count"]
    row.extensions += ev["extension_count"]
    row.suspensions += ev["suspension_count"]
    row.urges += ev["urge_count"]
    if ev["state"] in OPEN_STATES:
        light = ev["light"] if ev["light"] in ("green", "yellow", "red") else "green"
        setattr(row, f"open_{light}", getattr(row, f"open_{light}") + 1)
        row.overdue_now += light == "red"
    if ev["handling_minutes"] is not None:
        row.add_handling(ev["handling_minutes"])


def _add_departments(
    out: Figures, events: Mapping[int, Mapping[str, Any]], found: Attribution, overdue: set[int]
) -> None:
    for code in sorted(set(found.departments) | {ev["lead"] for ev in events.values() if ev["lead"]}):
        out.department(code)
    none = out.department(NO_DEPARTMENT)
    for code, facts in found.departments.items():
        row = out.department(code)
        row.received += len(facts.events)
        row.dispatched += facts.dispatches
        row.accepts += facts.accepts
        row.returns += facts.returns
        row.extensions += facts.extensions
        row.suspensions += facts.suspensions
        row.urges += facts.urges
        row.reworked += len(facts.reworked)
        row.co_handled += len(facts.co_handled)
        row.cases += len(facts.events)  # its events are cases: voided ones credit nobody
    had_department = set().union(*(f.events for f in found.departments.values()))
    for eid, ev in events.items():
        if ev["state"] in (State.INVALIDATED, State.MERGED):
            continue
        ever = eid in had_department
        if eid in found.closer:
            closer = found.closer[eid]
            row = out.departments[closer] if closer else none
            row.closed += 1
            row.closed_on_time += bool(ev["closed_on_time"])
            if ev["handling_minutes"] is not None:
                row.add_handling(ev["handling_minutes"])
        elif eid in overdue:
            row = out.departments[ev["lead"]] if ev["lead"] else none
            row.overdue_open += 1
        else:
            row = out.departments[ev["lead"]] if ev["lead"] else none
        if ev["state"] in OPEN_STATES and ev["lead"]:
            light = ev["light"] if ev["light"] in ("green", "yellow", "red") else "green"
            setattr(row, f"open_{light}", getattr(row, f"open_{light}") + 1)
            row.overdue_now += light == "red"
        credited = found.departments.get(row.key)
        reworked_here = eid in found.reworked and (
            (row is none and not ever) or (row is not none and credited is not None and eid in credited.reworked)
        )
        if reworked_here and (eid in found.closer or eid in overdue):
            row.reworked_due += 1
        if not ever:  # events that never had a department: the no-department row's own
            none.received += 1
            none.reworked += eid in found.reworked


def compute(
    events: Mapping[int, Mapping[str, Any]], facts: Iterable[Fact], clocks: ClockStops, overdue: set[int]
) -> Figures:
    """The figures of `events` (rows of event_rows), from their history `facts` (ordered by
    event and sequence), their stopped clocks and the set of them overdue now."""
    voided = {eid for eid, ev in events.items() if ev["state"] in (State.INVALIDATED, State.MERGED)}
    closed = {eid for eid, ev in events.items() if ev["state"] == State.CLOSED}
    found = attribute(facts, voided=voided, closed=closed, grid_role=Role.GRID_WORKER, clocks=clocks)
    out = Figures()
    for eid, ev in events.items():
        _add_event(out.area(ev["area_path"]), ev, overdue=eid in overdue, reworked=eid in found.reworked)
    _add_departments(out, events, found, overdue)
    for code, d in found.dispatchers.items():
        row = out.dispatcher(code)
        row.dispatches += d.dispatches
        row.timed_dispatches += d.timed
        row.on_time_dispatches += d.on_time
        row.wrong_dispatches += d.wrong
    for pk, w in found.workers.items():
        worker = out.worker(pk)
        worker.reports += w.reports
        worker.valid_reports += w.valid_reports
        worker.verifications += w.verifications
        worker.timed_verifications += w.timed
        worker.on_time_verifications += w.on_time
    return out


def live_figures(base: QuerySet[Event], now: datetime) -> Figures:
    """The figures of every event in `base`, read and attributed now."""
    return compute(event_rows(base), history_facts(base), clock_stops(base), overdue_events(base, now))
