"""The composite score and the ranking (综合评价): plain arithmetic on the report's rows.

Pure: no database. `dispatch.ranking` reads the weights (`IndicatorWeight`) and the report rows
and hands them here.

The score of a row (a department or a region) for a period:

    score = 100 × Σ wᵢ·vᵢ ÷ Σ wᵢ

over the indicators whose value vᵢ is defined for that row (an indicator with no denominator, e.g.
no 应结案数, drops out with its weight), where vᵢ is the rate itself for "higher is better"
indicators (结案率, 按期结案率) and 1 − rate for "lower is better" ones (返工率, 退回率). A row with
no defined indicator has no score and no rank. Ranks are competition ranks on the score rounded
to two decimals (equal scores share a rank; the next rank skips: 1, 2, 2, 4).

Weights: GB/T 30428.4 (数字化城市管理信息系统 第4部分: 绩效评价) and CJ/T 292 define the indicators
(their formulas are in dispatch.reports.DEFINITIONS) and the evaluated objects (区域, 部门, 岗位), but
the national texts we could consult give no numeric weighting that we can cite; each city fixes the
weights in its own 考核办法. The defaults below are ours, documented in docs/ARCHITECTURE.md and in
the admin: timeliness first (按期 40), then completion (30–40), quality (返工 20) and, for departments,
the returns that send work back to the dispatcher (退回 10).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from django.db import models
from django.utils.translation import gettext_lazy as _


class Indicator(models.TextChoices):
    ON_TIME_RATE = "on_time_rate", _("按期结案率 / 按期处置率 on-time rate")
    CLOSURE_RATE = "closure_rate", _("结案率 / 处置率 closure (handling) rate")
    REWORK_RATE = "rework_rate", _("返工率 rework rate (lower is better)")
    RETURN_RATE = "return_rate", _("退回率 return rate (lower is better)")


class ScoreTarget(models.TextChoices):
    DEPARTMENT = "department", _("departments")
    REGION = "region", _("regions")


class PeriodKind(models.TextChoices):
    MONTH = "month", _("month")
    QUARTER = "quarter", _("quarter")
    YEAR = "year", _("year")


LOWER_IS_BETTER = frozenset({Indicator.REWORK_RATE, Indicator.RETURN_RATE})

# The documented defaults (see the module docstring): (indicator, weight) per target.
DEFAULT_WEIGHTS: dict[str, dict[str, float]] = {
    ScoreTarget.DEPARTMENT: {
        Indicator.ON_TIME_RATE: 40.0,
        Indicator.CLOSURE_RATE: 30.0,
        Indicator.REWORK_RATE: 20.0,
        Indicator.RETURN_RATE: 10.0,
    },
    ScoreTarget.REGION: {
        Indicator.ON_TIME_RATE: 40.0,
        Indicator.CLOSURE_RATE: 40.0,
        Indicator.REWORK_RATE: 20.0,
    },
}


class RateRow(Protocol):
    """What a score needs of a report row (dispatch.reports.Row has it)."""

    key: str
    label: str
    dispatched: int
    returns: int

    @property
    def closure_rate(self) -> float | None: ...
    @property
    def on_time_rate(self) -> float | None: ...
    @property
    def rework_rate(self) -> float | None: ...


def indicator_values(row: RateRow) -> dict[str, float | None]:
    """Each indicator's rate for a row; 退回率 = returns ÷ dispatches (at most 1)."""
    return_rate = min(row.returns / row.dispatched, 1.0) if row.dispatched else None
    return {
        Indicator.CLOSURE_RATE: row.closure_rate,
        Indicator.ON_TIME_RATE: row.on_time_rate,
        Indicator.REWORK_RATE: row.rework_rate,
        Indicator.RETURN_RATE: return_rate,
    }


def composite_score(values: Mapping[str, float | None], weights: Mapping[str, float]) -> float | None:
    """100 × Σ wᵢ·vᵢ ÷ Σ wᵢ over the defined indicators with a positive weight, rounded to 2 decimals."""
    total_weight = 0.0
    total = 0.0
    for indicator, weight in weights.items():
        value = values.get(indicator)
        if value is None or weight <= 0:
            continue
        good = 1.0 - value if indicator in LOWER_IS_BETTER else value
        total += weight * good
        total_weight += weight
    if not total_weight:
        return None
    return round(100 * total / total_weight, 2)


def competition_ranks(scores: Mapping[str, float | None]) -> dict[str, int | None]:
    """Rank 1 = the highest score; equal scores share a rank (1, 2, 2, 4); no score, no rank."""
    ranked = sorted(((s, k) for k, s in scores.items() if s is not None), key=lambda item: (-item[0], item[1]))
    ranks: dict[str, int | None] = dict.fromkeys(scores)
    previous: float | None = None
    rank = 0
    for position, (score, key) in enumerate(ranked, start=1):
        if score != previous:
            rank, previous = position, score
        ranks[key] = rank
    return ranks


def arrow(rank: int | None, previous_rank: int | None) -> str:
    """↑ better than the previous period (a smaller rank number), ↓ worse, → the same; "" without both."""
    if rank is None or previous_rank is None:
        return ""
    if rank < previous_rank:
        return "↑"
    if rank > previous_rank:
        return "↓"
    return "→"


@dataclass(frozen=True)
class Placing:
    """One department's or region's line in the ranking."""

    key: str
    label: str
    values: dict[str, float | None]
    score: float | None
    rank: int | None
    previous_score: float | None
    previous_rank: int | None

    @property
    def arrow(self) -> str:
        return arrow(self.rank, self.previous_rank)


def rank_rows(rows: Iterable[RateRow], previous_rows: Iterable[RateRow], weights: Mapping[str, float]) -> list[Placing]:
    """The placings of `rows` (best first, unranked last), each beside its previous period's placing."""
    current = list(rows)
    values = {row.key: indicator_values(row) for row in current}
    scores = {key: composite_score(v, weights) for key, v in values.items()}
    ranks = competition_ranks(scores)
    before = {row.key: composite_score(indicator_values(row), weights) for row in previous_rows}
    before_ranks = competition_ranks(before)
    placings = [
        Placing(
            row.key,
            row.label,
            values[row.key],
            scores[row.key],
            ranks[row.key],
            before.get(row.key),
            before_ranks.get(row.key),
        )
        for row in current
    ]
    return sorted(placings, key=lambda p: (p.rank is None, p.rank or 0, p.key))


SHORT_NAMES = {
    Indicator.CLOSURE_RATE: "结案率",
    Indicator.ON_TIME_RATE: "按期结案率",
    Indicator.REWORK_RATE: "返工率",
    Indicator.RETURN_RATE: "退回率",
}


def formula_text(weights: Mapping[str, float]) -> str:
    """The score's formula with these weights, for the page and the exports."""
    terms = []
    for indicator, weight in weights_in_order(weights):
        if weight <= 0:
            continue
        name = SHORT_NAMES[Indicator(indicator)]
        terms.append(f"{weight:g} × (1 − {name})" if indicator in LOWER_IS_BETTER else f"{weight:g} × {name}")
    total = sum(w for w in weights.values() if w > 0)
    return f"100 × ({' + '.join(terms)}) ÷ {total:g}" if terms else "—"


def period_span(kind: str, day: date) -> tuple[date, date]:
    """The month, quarter or year containing `day`, as (first day, last day)."""
    if kind == PeriodKind.YEAR:
        return date(day.year, 1, 1), date(day.year, 12, 31)
    first_month = day.month if kind == PeriodKind.MONTH else 3 * ((day.month - 1) // 3) + 1
    months = 1 if kind == PeriodKind.MONTH else 3
    start = date(day.year, first_month, 1)
    next_month = first_month + months
    after = date(day.year + (next_month - 1) // 12, (next_month - 1) % 12 + 1, 1)
    return start, after - timedelta(days=1)


def previous_span(kind: str, start: date) -> tuple[date, date]:
    """The period before the one starting on `start` (last month, last quarter, last year)."""
    return period_span(kind, start - timedelta(days=1))


def period_label(kind: str, start: date) -> str:
    if kind == PeriodKind.YEAR:
        return f"{start:%Y}"
    if kind == PeriodKind.QUARTER:
        return f"{start:%Y}-Q{(start.month - 1) // 3 + 1}"
    return f"{start:%Y-%m}"


def weights_in_order(weights: Mapping[str, float]) -> Sequence[tuple[str, float]]:
    """The weights in the indicators' declared order (the page's and the exports' column order)."""
    return [(indicator, weights[indicator]) for indicator in Indicator.values if indicator in weights]
