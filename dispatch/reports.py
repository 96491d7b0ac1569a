"""The supervisor's evaluation report (绩效评价), by department, region, dispatcher and grid worker.

Definitions (GB/T 30428.4, CJ/T 292; DEFINITIONS below is printed on the page and in the exports):
- population (立案): events reported in the period inside the unit, not invalidated, not merged;
- 应结案数 = 结案数 + 超期未结案数 (open with the overall deadline passed; open events not yet due
  are not counted);
- 结案率 = 结案数 / 应结案数; 按期结案率 = 按期结案数 / 应结案数 (closed with no recorded breach of the
  overall limit, approved extensions included); 返工率 = events of 应结案数 with at least one failed
  verification / 应结案数 (one population for both).
Department rows are attributed from history (dispatch.evaluation): who held the responsibility when
each fact happened. Every read goes through the permission-scoped event selector.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Department, OrgUnit, Role, User
from dispatch.evaluation import AUTO, Attribution, ClockStops, Fact, attribute
from dispatch.models import SlaClock, SlaStep
from incidents.models import OPEN_STATES, Event, EventRecord, State
from incidents.selectors import events_for_user

# (name, formula): printed on the page and in the title block of the exports.
DEFINITIONS = [
    (gettext_lazy("立案数"), gettext_lazy("events reported in the period, less invalidated and merged")),
    (gettext_lazy("应结案数"), gettext_lazy("结案数 + 超期未结案数 (open, overall deadline passed)")),
    (gettext_lazy("结案率"), gettext_lazy("结案数 ÷ 应结案数")),
    (gettext_lazy("按期结案率"), gettext_lazy("按期结案数 (no breach of the overall limit) ÷ 应结案数")),
    (gettext_lazy("返工率"), gettext_lazy("events of 应结案数 that failed verification at least once ÷ 应结案数")),
    (
        gettext_lazy("departments"),
        gettext_lazy(
            "credited from history to the lead department at each fact; 应处置数 = 处置数 (its result closed "
            "the event) + 超期未处置数 (open, overdue, led by it now); 处置率 = 处置数 ÷ 应处置数; "
            "按期处置率 = 按期处置数 ÷ 应处置数"
        ),
    ),
    (
        gettext_lazy("dispatchers"),
        gettext_lazy(
            "按时派遣率 = dispatches within the dispatch limit ÷ timed dispatches; 准确派遣率 = "
            "(派遣数 − returned dispatches) ÷ 派遣数"
        ),
    ),
    (
        gettext_lazy("grid workers"),
        gettext_lazy(
            "有效上报率 = reports neither invalidated nor merged ÷ 上报数; 按时核查率 = checks within "
            "the verification limit ÷ timed checks"
        ),
    ),
    (
        gettext_lazy("handling time"),
        gettext_lazy(
            "working hours from acceptance to the submitted result, suspensions excluded; "
            "P90 is the nearest-rank 90th percentile"
        ),
    ),
]

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


@dataclass
class Row:
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
    handling_hours: list[float] = field(default_factory=list, repr=False)

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
        return sum(self.handling_hours) / len(self.handling_hours) if self.handling_hours else None

    @property
    def p90_handling_hours(self) -> float | None:
        """Nearest-rank 90th percentile."""
        if not self.handling_hours:
            return None
        ordered = sorted(self.handling_hours)
        return ordered[max(math.ceil(0.9 * len(ordered)) - 1, 0)]

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
class DispatcherRow:
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
class GridWorkerRow:
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
class Report:
    unit: OrgUnit
    start: date
    end: date
    total: Row
    by_department: list[Row]
    by_region: list[Row]
    by_dispatcher: list[DispatcherRow] = field(default_factory=list)
    by_grid_worker: list[GridWorkerRow] = field(default_factory=list)
    generated_at: datetime | None = None


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Local calendar days [start, end] as aware instants [from, to)."""
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def _overdue_events(base: QuerySet[Event], now: datetime) -> set[int]:
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


def _clock_stops(base: QuerySet[Event]) -> ClockStops:
    """Stopped dispatch and verification clocks, by the instant that stopped them (the record's time)."""
    stops: ClockStops = {}
    for c in SlaClock.objects.filter(
        event__in=base, step__in=[SlaStep.DISPATCH, SlaStep.VERIFY], stopped_at__isnull=False
    ).values("event_id", "step", "stopped_at", "breached_at"):
        if c["stopped_at"] is not None:  # filtered above; the row type cannot say so
            stops[(c["event_id"], c["step"], c["stopped_at"])] = c["breached_at"] is not None
    return stops


def _facts(base: QuerySet[Event]) -> list[Fact]:
    return [
        Fact(eid, action, at, actor, role, unit, data if isinstance(data, dict) else {})
        for eid, action, at, actor, role, unit, data in EventRecord.objects.filter(event__in=base)
        .order_by("event_id", "seq")
        .values_list("event_id", "action", "created_at", "actor_id", "actor_role", "actor_unit__code", "data")
    ]


def _add_event(row: Row, ev: Mapping[str, Any], *, overdue: bool, reworked: bool) -> None:
    """The city-level figures of one event (total and regions)."""
    row.received += 1
    row.dispatched += ev["first_dispatched_at"] is not None
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
        row.handling_hours.append(ev["handling_minutes"] / 60)


def _department_rows(events: Mapping[int, Mapping[str, Any]], found: Attribution, overdue: set[int]) -> list[Row]:
    codes = set(found.departments) | {ev["lead"] for ev in events.values() if ev["lead"]}
    names = dict(Department.objects.filter(code__in=codes).values_list("code", "name"))
    rows: dict[str, Row] = {code: Row(code, names.get(code, code)) for code in sorted(codes)}
    none = Row("-", _("(no department: waiting, or fixed on the spot)"))
    for code, facts in found.departments.items():
        row = rows[code]
        row.received, row.dispatched, row.accepts = len(facts.events), facts.dispatches, facts.accepts
        row.returns, row.extensions, row.suspensions, row.urges = (
            facts.returns,
            facts.extensions,
            facts.suspensions,
            facts.urges,
        )
        row.reworked, row.co_handled = len(facts.reworked), len(facts.co_handled)
        row.cases = row.received  # its events are cases: voided ones credit nobody
    had_department = set().union(*(f.events for f in found.departments.values()))
    for eid, ev in events.items():
        if ev["state"] in (State.INVALIDATED, State.MERGED):
            continue
        ever = eid in had_department
        if eid in found.closer:
            closer = found.closer[eid]
            row = rows[closer] if closer else none
            row.closed += 1
            row.closed_on_time += bool(ev["closed_on_time"])
            if ev["handling_minutes"] is not None:
                row.handling_hours.append(ev["handling_minutes"] / 60)
        elif eid in overdue:
            row = rows[ev["lead"]] if ev["lead"] else none
            row.overdue_open += 1
        else:
            row = rows[ev["lead"]] if ev["lead"] else none
        if ev["state"] in OPEN_STATES and ev["lead"]:
            light = ev["light"] if ev["light"] in ("green", "yellow", "red") else "green"
            setattr(row, f"open_{light}", getattr(row, f"open_{light}") + 1)
            row.overdue_now += light == "red"
        reworked_here = eid in found.reworked and (
            (row is none and not ever) or (row is not none and eid in found.departments[row.key].reworked)
        )
        if reworked_here and (eid in found.closer or eid in overdue):
            row.reworked_due += 1
        if not ever:  # events that never had a department: the no-department row's own
            none.received += 1
            none.reworked += eid in found.reworked
    return [*rows.values(), none]


def sla_report(user: User, *, unit: OrgUnit, start: date, end: date) -> Report:
    since, until = period_bounds(start, end)
    now = timezone.now()
    base = events_for_user(user).filter(area_path__startswith=unit.path, reported_at__gte=since, reported_at__lt=until)

    children = list(unit.children.order_by("code")) or [unit]
    prefix_length = len(children[0].path)
    region_rows = {child.path: Row(child.code, child.name) for child in children}
    total = Row("total", _("Total"))

    # Correctness first: one read of the events, one of their history, two of their clocks; the
    # attribution is one ordered pass over the history in Python (see dispatch.evaluation).
    events = {
        ev["id"]: ev
        for ev in base.values(
            "id",
            "state",
            "area_path",
            "first_dispatched_at",
            "closed_on_time",
            "handling_minutes",
            "light",
            "return_count",
            "extension_count",
            "suspension_count",
            "urge_count",
            lead=F("lead_department__code"),
        )
    }
    overdue = _overdue_events(base, now)
    voided = {eid for eid, ev in events.items() if ev["state"] in (State.INVALIDATED, State.MERGED)}
    closed = {eid for eid, ev in events.items() if ev["state"] == State.CLOSED}
    found = attribute(_facts(base), voided=voided, closed=closed, grid_role=Role.GRID_WORKER, clocks=_clock_stops(base))

    for eid, ev in events.items():
        flags = {"overdue": eid in overdue, "reworked": eid in found.reworked}
        _add_event(total, ev, **flags)
        if (row := region_rows.get(ev["area_path"][:prefix_length])) is not None:
            _add_event(row, ev, **flags)

    units = dict(OrgUnit.objects.filter(code__in=set(found.dispatchers)).values_list("code", "name"))
    dispatchers = [
        DispatcherRow(
            code,
            _("(automatic rule)") if code == AUTO else units.get(code, _("(no unit)") if code == "-" else code),
            f.dispatches,
            f.timed,
            f.on_time,
            f.wrong,
        )
        for code, f in sorted(found.dispatchers.items())
    ]
    people = {u.pk: u for u in User.objects.filter(pk__in=set(found.workers))}
    workers = [
        GridWorkerRow(
            people[pk].username,
            people[pk].get_full_name() or people[pk].username,
            f.reports,
            f.valid_reports,
            f.verifications,
            f.timed,
            f.on_time,
        )
        for pk, f in sorted(found.workers.items(), key=lambda item: people[item[0]].username)
    ]
    return Report(
        unit,
        start,
        end,
        total,
        _department_rows(events, found, overdue),
        list(region_rows.values()),
        dispatchers,
        workers,
        now,
    )
