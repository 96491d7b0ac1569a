"""Attribution from history (考核归属): who held the responsibility when each fact happened.

One pass over the history records of the report's events, in order. The department holding the
responsibility at a record is the lead at that moment: the department of the latest dispatch or
redispatch before it, none after a return or a reopen. A redispatch therefore moves the facts that
follow it and never the ones before. The dispatcher (the operator's unit, or the automatic rule) is
credited with each dispatch, and with each return of it as a wrong dispatch (错派); grid workers with
their reports and their on-site checks (核查).

Plain data in, plain counters out: the report (dispatch.reports) reads the rows and the clocks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

AUTO = "auto"  # the dispatcher key of a dispatch made by the system (routing rule, actor None)


@dataclass(frozen=True)
class Fact:
    """One history record, as the pass needs it."""

    event_id: int
    action: str
    created_at: datetime
    actor_id: int | None
    actor_role: str
    actor_unit: str | None
    data: dict[str, object]


@dataclass
class DepartmentFacts:
    """What one department did, from history."""

    dispatches: int = 0  # dispatches and redispatches it received
    events: set[int] = field(default_factory=set)  # events dispatched to it (received)
    accepts: int = 0
    returns: int = 0
    results: int = 0  # results submitted while lead
    reworked: set[int] = field(default_factory=set)  # events it was sent back to rework on
    extensions: int = 0
    suspensions: int = 0
    urges: int = 0
    co_handled: set[int] = field(default_factory=set)  # events it co-handled (协办)
    closed: set[int] = field(default_factory=set)  # events now closed by its result


@dataclass
class DispatcherFacts:
    """What one dispatching unit did."""

    dispatches: int = 0
    timed: int = 0  # dispatches ending a dispatch clock (a redispatch ends none)
    on_time: int = 0
    wrong: int = 0  # dispatches the department returned (错派)


@dataclass
class WorkerFacts:
    """What one grid worker did."""

    reports: int = 0
    valid_reports: int = 0
    verifications: int = 0
    timed: int = 0  # verifications ending a verify clock
    on_time: int = 0


@dataclass
class Attribution:
    departments: dict[str, DepartmentFacts] = field(default_factory=dict)
    dispatchers: dict[str, DispatcherFacts] = field(default_factory=dict)
    workers: dict[int, WorkerFacts] = field(default_factory=dict)
    # The department whose result closed each event now closed (None: fixed on the spot / none).
    closer: dict[int, str | None] = field(default_factory=dict)
    # Events with at least one failed verification.
    reworked: set[int] = field(default_factory=set)


# (event id, step, stopped at) → breached? for the stopped dispatch and verify clocks.
ClockStops = dict[tuple[int, str, datetime], bool]


def attribute(
    facts: Iterable[Fact], *, voided: set[int], closed: set[int], grid_role: str, clocks: ClockStops
) -> Attribution:
    """Credit each fact to who held the responsibility when it happened.

    `facts` are ordered by event and sequence. `voided` events (invalidated, merged) are not cases:
    nobody is credited with work on them, but their reporters are with the report. `closed` are the
    events closed now: the department of the last result before the last close is credited.
    """
    out = Attribution()
    lead: str | None = None
    last_dispatcher: str | None = None
    result_by: str | None = None
    closed_by: str | None = None
    current: int | None = None

    def dept(code: str) -> DepartmentFacts:
        return out.departments.setdefault(code, DepartmentFacts())

    def finish(event_id: int | None) -> None:
        if event_id is not None and event_id in closed and event_id not in voided:
            out.closer[event_id] = closed_by

    for fact in facts:
        if fact.event_id != current:
            finish(current)
            current, lead, last_dispatcher, result_by, closed_by = fact.event_id, None, None, None, None
        eid, action = fact.event_id, fact.action
        if action == "file":
            if fact.actor_id is not None and fact.actor_role == grid_role:
                worker = out.workers.setdefault(fact.actor_id, WorkerFacts())
                worker.reports += 1
                worker.valid_reports += eid not in voided
            continue
        if eid in voided:
            continue
        if action in ("dispatch", "redispatch"):
            lead = str(fact.data.get("department") or "") or None
            last_dispatcher = (fact.actor_unit or "-") if fact.actor_id is not None else AUTO
            dispatcher = out.dispatchers.setdefault(last_dispatcher, DispatcherFacts())
            dispatcher.dispatches += 1
            breached = clocks.get((eid, "dispatch", fact.created_at))
            if breached is not None:
                dispatcher.timed += 1
                dispatcher.on_time += not breached
            if lead:
                dept(lead).dispatches += 1
                dept(lead).events.add(eid)
            co_departments = fact.data.get("co_departments")
            for co in co_departments if isinstance(co_departments, list) else []:
                dept(str(co)).co_handled.add(eid)
        elif action == "return":
            returned = str(fact.data.get("department") or "") or lead
            if returned:
                dept(returned).returns += 1
            if last_dispatcher is not None:
                out.dispatchers.setdefault(last_dispatcher, DispatcherFacts()).wrong += 1
            lead, last_dispatcher = None, None
        elif action == "reopen":
            lead, last_dispatcher, result_by = None, None, None
        elif action in ("submit_result", "self_handle"):
            result_by = lead if action == "submit_result" else None
            if lead and action == "submit_result":
                dept(lead).results += 1
        elif action in ("verify_pass", "verify_fail"):
            if action == "verify_fail":
                out.reworked.add(eid)
                if lead:
                    dept(lead).reworked.add(eid)
            if fact.actor_id is not None and fact.actor_role == grid_role:
                worker = out.workers.setdefault(fact.actor_id, WorkerFacts())
                worker.verifications += 1
                breached = clocks.get((eid, "verify", fact.created_at))
                if breached is not None:
                    worker.timed += 1
                    worker.on_time += not breached
        elif action == "close":
            closed_by = result_by
        elif lead and action in ("accept", "extension_approve", "suspend", "urge"):
            facts_of = dept(lead)
            if action == "accept":
                facts_of.accepts += 1
            elif action == "extension_approve":
                facts_of.extensions += 1
            elif action == "suspend":
                facts_of.suspensions += 1
            else:
                facts_of.urges += 1
    finish(current)
    for eid, code in out.closer.items():
        if code:
            dept(code).closed.add(eid)
    return out
