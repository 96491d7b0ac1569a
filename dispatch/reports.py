"""The supervisor's evaluation report (绩效评价), by department, region, dispatcher and grid worker.

Definitions (GB/T 30428.4, CJ/T 292; DEFINITIONS below is printed on the page and in the exports):
- population (立案): events reported in the period inside the unit, not invalidated, not merged;
- 应结案数 = 结案数 + 超期未结案数 (open with the overall deadline passed; open events not yet due
  are not counted);
- 结案率 = 结案数 / 应结案数; 按期结案率 = 按期结案数 / 应结案数 (closed with no recorded breach of the
  overall limit, approved extensions included); 返工率 = events of 应结案数 with at least one failed
  verification / 应结案数 (one population for both).
Department rows are attributed from history (dispatch.evaluation): who held the responsibility when
each fact happened.

Two sources give the same figures (tests/dispatch/test_rollups.py proves it over random histories):
`source="live"` computes them from the events, history and clocks (dispatch.figures, the reference);
`source="rollup"` (the default) sums the daily roll-ups of the clean days (dispatch.rollups) and
computes live only the days changed since their roll-up and the deadlines that came due since.

Scoping. Every live read starts from the permission-scoped selector. Roll-ups are summed only over
area paths under the requested unit, and only when the user's `view_events` jurisdiction contains
that unit (or the user sees the whole city): the selector then admits every event under the unit
(its department terms only add events, and inside the unit they are already in), so "events under
the unit" and "events the user may see under the unit" are the same set. Otherwise (a handler
reading a unit through its department, a unit partly outside the jurisdiction) the report is live.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Department, OrgUnit, User
from accounts.selectors import units_granting
from dispatch import rollups
from dispatch.evaluation import AUTO
from dispatch.figures import (
    METRICS,
    NO_DEPARTMENT,
    DispatcherRow,
    Figures,
    GridWorkerRow,
    Row,
    live_figures,
    period_bounds,
)
from dispatch.models import RollupKind
from incidents.models import Event
from incidents.selectors import events_for_user

__all__ = [
    "DEFINITIONS",
    "METRICS",
    "DispatcherRow",
    "GridWorkerRow",
    "Report",
    "Row",
    "department_ranking_rows",
    "monthly_trend",
    "period_bounds",
    "sla_report",
]

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
            "working hours from acceptance to the submitted result, suspensions excluded; mean = sum ÷ "
            "count (to the second); P90 = the upper bound of the histogram bucket holding the nearest-rank "
            "90th percentile, buckets ending at 15, 30, 60, 120, 240, 480, 960, 1440, 2400, 4800 and 9600 "
            "working minutes (above 9600 it reads 9600: at least 160 h)"
        ),
    ),
]


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


SOURCES = ("rollup", "live")
ALL_KINDS = (RollupKind.AREA, RollupKind.DEPARTMENT, RollupKind.DISPATCHER, RollupKind.WORKER)


def _base(user: User, unit: OrgUnit, start: date, end: date) -> QuerySet[Event]:
    since, until = period_bounds(start, end)
    return events_for_user(user).filter(area_path__startswith=unit.path, reported_at__gte=since, reported_at__lt=until)


def _sees_whole(user: User, unit: OrgUnit) -> bool:
    """True when the scoped selector admits every event under `unit` (see the module docstring)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return any(unit.path.startswith(root.path) for root in units_granting(user, "view_events"))


def _regions(unit: OrgUnit) -> tuple[list[OrgUnit], int]:
    children = list(unit.children.order_by("code")) or [unit]
    return children, len(children[0].path)


def _figures(
    user: User, unit: OrgUnit, start: date, end: date, now: datetime, *, source: str, prefix: int,
    kinds: tuple[str, ...] = ALL_KINDS, by_month: bool = False,
) -> dict[int, Figures]:  # fmt: skip
    """The figures of the user's events under `unit` reported in [start, end] (per month when asked, else key 0)."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}")
    base = _base(user, unit, start, end)
    if source == "live" or not _sees_whole(user, unit):
        if not by_month:
            return {0: live_figures(base, now)}
        return {
            month: live_figures(base.filter(reported_at__month=month), now) for month in range(1, 13)
        }  # reported_at__month reads the local month (USE_TZ): the months the roll-ups are keyed by
    clean, live_days = rollups.day_status(start, end)
    out = rollups.summed(unit.path, start, end, clean, prefix=prefix, kinds=kinds, by_month=by_month)
    moved = rollups.came_due(base, clean, now)
    live_months = {day.month for day in live_days}
    for month in range(1, 13) if by_month else (0,):
        fig = out.setdefault(month, Figures())
        # The days changed since their roll-up (or never rolled up), live: one read per month that
        # has any (the days still to come of the current month fall into one range with today).
        days = [day for day in live_days if not by_month or day.month == month]
        if days and (not by_month or month in live_months):
            fig.merge(live_figures(base.filter(rollups.days_q(days)), now))
        if moved:
            mine = (
                moved
                if not by_month
                else set(base.filter(pk__in=moved, reported_at__month=month).values_list("pk", flat=True))
            )
            fig.merge(rollups.came_due_delta(base, mine, now))
    return out


def _department_rows(fig: Figures) -> list[Row]:
    codes = sorted(code for code in fig.departments if code != NO_DEPARTMENT)
    names = dict(Department.objects.filter(code__in=codes).values_list("code", "name"))
    rows = []
    for code in codes:
        row = fig.departments[code]
        row.key, row.label = code, names.get(code, code)
        rows.append(row)
    none = fig.departments.get(NO_DEPARTMENT) or Row(NO_DEPARTMENT, "")
    none.key, none.label = NO_DEPARTMENT, _("(no department: waiting, or fixed on the spot)")
    return [*rows, none]


def _assemble(
    unit: OrgUnit, start: date, end: date, fig: Figures, now: datetime, regions: tuple[list[OrgUnit], int]
) -> Report:
    children, prefix = regions
    region_rows = {child.path: Row(child.code, child.name) for child in children}
    total = Row("total", _("Total"))
    for path, row in sorted(fig.areas.items()):
        total.merge(row)
        if (region := region_rows.get(path[:prefix])) is not None:
            region.merge(row)
    units = dict(OrgUnit.objects.filter(code__in=set(fig.dispatchers)).values_list("code", "name"))
    dispatchers = []
    for code, d in sorted(fig.dispatchers.items()):
        d.key = code
        d.label = _("(automatic rule)") if code == AUTO else units.get(code, _("(no unit)") if code == "-" else code)
        dispatchers.append(d)
    people = {u.pk: u for u in User.objects.filter(pk__in=set(fig.workers))}
    workers = []
    for pk, w in sorted(fig.workers.items(), key=lambda item: people[item[0]].username):
        w.key, w.label = people[pk].username, people[pk].get_full_name() or people[pk].username
        workers.append(w)
    return Report(unit, start, end, total, _department_rows(fig), list(region_rows.values()), dispatchers, workers, now)


def sla_report(user: User, *, unit: OrgUnit, start: date, end: date, source: str = "rollup") -> Report:
    """The evaluation report of the user's events under `unit` reported in [start, end] (local days)."""
    now = timezone.now()
    with rollups.snapshot():
        regions = _regions(unit)  # read once: the grouping prefix and the region rows
        fig = _figures(user, unit, start, end, now, source=source, prefix=regions[1])[0]
        return _assemble(unit, start, end, fig, now, regions)


def department_ranking_rows(user: User, *, unit: OrgUnit, start: date, end: date, source: str = "rollup") -> list[Row]:
    """The department rows of sla_report (same figures, by code, without the no-department row),
    read without the region, dispatcher and grid-worker parts: what a ranking scores."""
    now = timezone.now()
    with rollups.snapshot():
        fig = _figures(
            user, unit, start, end, now, source=source, prefix=len(unit.path), kinds=(RollupKind.DEPARTMENT,)
        )[0]
        return [row for row in _department_rows(fig) if row.key != NO_DEPARTMENT]


def monthly_trend(user: User, *, unit: OrgUnit, year: int, source: str = "rollup") -> list[tuple[int, Row]]:
    """(month, the unit's total Row for the events reported that month), for each month of `year` that
    has begun: 结案率, 按期结案率, 返工率 per month are its closure_rate, on_time_rate and rework_rate
    (None for a month without 应结案)."""
    now = timezone.now()
    start, end = date(year, 1, 1), date(year, 12, 31)
    with rollups.snapshot():
        by_month = _figures(
            user, unit, start, end, now, source=source, prefix=len(unit.path), kinds=(RollupKind.AREA,), by_month=True
        )
    out = []
    today = timezone.localdate()
    for month in range(1, 13):
        if date(year, month, 1) > today:
            break  # a month that has not begun has no figures, not zeros
        total = Row("total", _("Total"))
        for row in by_month.get(month, Figures()).areas.values():
            total.merge(row)
        out.append((month, total))
    return out
