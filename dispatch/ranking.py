"""The ranking (综合评价排名) of departments and regions for a month, a quarter or a year, and the monthly trend.

Built on `dispatch.reports.sla_report` (the same definitions, the same permission scope: a street
operator's ranking holds only what their report holds); the arithmetic is `dispatch.scores`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone

from accounts.models import OrgUnit, User
from dispatch.models import IndicatorWeight
from dispatch.reports import Report, Row, sla_report
from dispatch.scores import (
    DEFAULT_WEIGHTS,
    Placing,
    ScoreTarget,
    formula_text,
    period_label,
    period_span,
    previous_span,
    rank_rows,
    weights_in_order,
)


def weights_for(target: str) -> dict[str, float]:
    """The admin's weights for departments or regions; the documented defaults while the table has none."""
    stored = {w.indicator: float(w.weight) for w in IndicatorWeight.objects.filter(applies_to=target)}
    return stored or dict(DEFAULT_WEIGHTS[target])


@dataclass(frozen=True)
class Board:
    """The ranking of one kind (departments or regions), its weights and the formula they make."""

    target: str
    weights: list[tuple[str, float]]
    formula: str
    placings: list[Placing]


@dataclass(frozen=True)
class Ranking:
    unit: OrgUnit
    period: str  # month | quarter | year
    start: date
    end: date
    label: str
    previous_start: date
    previous_end: date
    previous_label: str
    departments: Board
    regions: Board
    generated_at: datetime


def _board(target: str, rows: list[Row], previous: list[Row]) -> Board:
    weights = weights_for(target)
    return Board(target, list(weights_in_order(weights)), formula_text(weights), rank_rows(rows, previous, weights))


def _department_rows(report: Report) -> list[Row]:
    """Departments only: the no-department row ("-") is not ranked."""
    return [row for row in report.by_department if row.key != "-"]


def ranking(user: User, *, unit: OrgUnit, period: str, on: date) -> Ranking:
    """Scores and ranks of the departments and of the regions (the unit's children) for the period
    containing `on`, each beside its placing in the period before ("this month vs last month")."""
    start, end = period_span(period, on)
    before_start, before_end = previous_span(period, start)
    now = sla_report(user, unit=unit, start=start, end=end)
    before = sla_report(user, unit=unit, start=before_start, end=before_end)
    return Ranking(
        unit=unit,
        period=period,
        start=start,
        end=end,
        label=period_label(period, start),
        previous_start=before_start,
        previous_end=before_end,
        previous_label=period_label(period, before_start),
        departments=_board(ScoreTarget.DEPARTMENT, _department_rows(now), _department_rows(before)),
        regions=_board(ScoreTarget.REGION, now.by_region, before.by_region),
        generated_at=now.generated_at or timezone.now(),
    )
