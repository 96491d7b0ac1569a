"""Dispatch accuracy (派遣准确率) from history: the model, the rules and people side by side.

An event counts once, in the month (Asia/Shanghai) and category of its first dispatch, for whoever made
that first dispatch: the learned model (history data `decided_by.by == "model"`), a routing rule (the
system, no model) or a person (an operator). Read from the history records, never from today's fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.models import Event, EventRecord

DECIDERS = ("model", "rule", "person")
DEFINITIONS = [
    (
        _("首派准确率 first-dispatch accuracy"),
        _("first dispatches neither returned nor redispatched ÷ first dispatches"),
    ),
    (_("自动派发率 model dispatch rate"), _("first dispatches made by the model ÷ all first dispatches")),
    (_("回退率 return rate"), _("first dispatches later returned (退回) by a department ÷ first dispatches")),
]


def _rate(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


@dataclass
class Tally:
    dispatches: int = 0
    accurate: int = 0
    returned: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "first_dispatches": self.dispatches,
            "accurate": self.accurate,
            "returned": self.returned,
            "accuracy": _rate(self.accurate, self.dispatches),
            "return_rate": _rate(self.returned, self.dispatches),
        }


@dataclass
class Row:
    key: str
    label: str
    by: dict[str, Tally] = field(default_factory=lambda: {d: Tally() for d in DECIDERS})

    def as_dict(self) -> dict[str, Any]:
        total = sum(t.dispatches for t in self.by.values())
        everyone = Tally(total, sum(t.accurate for t in self.by.values()), sum(t.returned for t in self.by.values()))
        return {
            "key": self.key,
            "label": self.label,
            "all": everyone.as_dict(),
            **{d: t.as_dict() for d, t in self.by.items()},
            "model_dispatch_rate": _rate(self.by["model"].dispatches, total),
        }


@dataclass
class AccuracyReport:
    start: date
    end: date
    total: Row
    by_month: list[Row]
    by_category: list[Row]


def _decider(record: EventRecord) -> str:
    decided = (record.data or {}).get("decided_by") or {}
    if decided.get("by") == "model":
        return "model"
    return "rule" if record.actor_role == "system" else "person"


def dispatch_accuracy(events: QuerySet[Event], start: date, end: date) -> AccuracyReport:
    """`events`: the reader's scope (incidents.selectors.events_for_user, narrowed to the area)."""
    tz = timezone.get_current_timezone()
    low = datetime.combine(start, time.min, tz)
    high = datetime.combine(end + timedelta(days=1), time.min, tz)
    scoped = events.filter(first_dispatched_at__gte=low, first_dispatched_at__lt=high)
    records = (
        EventRecord.objects.filter(event__in=scoped.values("pk"), action__in=["dispatch", "return", "redispatch"])
        .select_related("event__category")
        .only(
            "event_id",
            "seq",
            "action",
            "actor_role",
            "data",
            "created_at",
            "event__category__code",
            "event__category__name",
        )
        .order_by("event_id", "seq")
    )
    total = Row("total", str(_("total")))
    months: dict[str, Row] = {}
    categories: dict[str, Row] = {}
    current: int | None = None
    first: EventRecord | None = None
    corrected = returned = False

    def close() -> None:
        if first is None:
            return
        month = timezone.localtime(first.created_at).strftime("%Y-%m")
        category = first.event.category
        decider = _decider(first)
        rows = (
            total,
            months.setdefault(month, Row(month, month)),
            categories.setdefault(category.code, Row(category.code, category.name)),
        )
        for row in rows:
            tally = row.by[decider]
            tally.dispatches += 1
            tally.accurate += not corrected
            tally.returned += returned

    for record in records.iterator(chunk_size=5000):
        if record.event_id != current:
            close()
            current, first, corrected, returned = record.event_id, None, False, False
        if first is None:
            if record.action == "dispatch":
                first = record
            continue
        corrected = True  # a return or a redispatch after the first dispatch; a dispatch after a return
        returned = returned or record.action == "return"
    close()
    return AccuracyReport(
        start, end, total, [months[k] for k in sorted(months)], [categories[k] for k in sorted(categories)]
    )
