"""Checks of routing rules that need no database: time windows, and whether two rules could tie.

Kept apart from `dispatch.routing` so the rule model can validate itself without importing the
code that reads rules (no cycle between the model and the decision).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time
from typing import Protocol

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts.models import OrgUnit
from dispatch.choices import DayType, TargetKind
from incidents.models import Category, Source, Urgency


class RoutingRule(Protocol):
    """What these checks read of a dispatch.models.RoutingRule (which imports this module)."""

    pk: int | None
    name: str
    priority: int
    is_active: bool
    category_id: int | None
    region_id: int | None
    department_id: int | None
    department_type_id: int | None
    target_kind: str
    urgencies: list
    sources: list
    day_type: str
    time_from: time | None
    time_to: time | None

    @property
    def category(self) -> Category | None: ...

    @property
    def region(self) -> OrgUnit | None: ...


def in_window(moment: time, start: time | None, end: time | None) -> bool:
    if start is None and end is None:
        return True
    start = start or time.min
    end = end or time.max
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end  # wraps midnight


def _category_overlap(a: RoutingRule, b: RoutingRule) -> bool:
    # A rule without a category reads None here without a query (Django checks the id first).
    ca, cb = a.category, b.category
    if ca is None or cb is None:
        return True
    return ca.pk == cb.pk or ca.parent_id == cb.pk or cb.parent_id == ca.pk


def _region_overlap(a: RoutingRule, b: RoutingRule) -> bool:
    ra, rb = a.region, b.region
    if ra is None or rb is None:
        return True
    return ra.path.startswith(rb.path) or rb.path.startswith(ra.path)


def _list_overlap(x: list, y: list) -> bool:
    return not x or not y or bool(set(x) & set(y))


def _minutes(start: time | None, end: time | None) -> set[int]:
    # Time windows as sets of minutes of the day: exact, and 1,440 elements is nothing.
    out: set[int] = set()
    for m in range(24 * 60):
        if in_window(time(m // 60, m % 60), start, end):
            out.add(m)
    return out


def could_tie(a: RoutingRule, b: RoutingRule) -> bool:
    """True when some event could match both rules (keywords never rule that out)."""
    return (
        a.priority == b.priority
        and _category_overlap(a, b)
        and _region_overlap(a, b)
        and _list_overlap(a.urgencies, b.urgencies)
        and _list_overlap(a.sources, b.sources)
        and (a.day_type == DayType.ANY or b.day_type == DayType.ANY or a.day_type == b.day_type)
        and bool(_minutes(a.time_from, a.time_to) & _minutes(b.time_from, b.time_to))
    )


def validate_rule(rule: RoutingRule, others: Iterable[RoutingRule]) -> None:
    """Refuse a rule whose fields contradict each other, or that could tie with one of `others`
    (the other active rules of its priority): with two winners, routing would be a coin toss."""
    errors: dict[str, str] = {}
    if rule.target_kind == TargetKind.RELATIVE and not rule.department_type_id:
        errors["department_type"] = _("A relative target needs a department type.")
    if rule.target_kind == TargetKind.NAMED and not rule.department_id:
        errors["department"] = _("Name the department.")
    bad_u = [u for u in rule.urgencies or [] if u not in Urgency.values]
    if bad_u or not isinstance(rule.urgencies, list):
        errors["urgencies"] = _("Urgencies are a list of %(v)s.") % {"v": Urgency.values}
    bad_s = [s for s in rule.sources or [] if s not in Source.values]
    if bad_s or not isinstance(rule.sources, list):
        errors["sources"] = _("Sources are a list of %(v)s.") % {"v": ", ".join(Source.values)}
    if rule.time_from and rule.time_to and rule.time_from == rule.time_to:
        errors["time_to"] = _("An empty time window never matches.")
    if errors:
        raise ValidationError(errors)
    if not rule.is_active:
        return
    for other in others:
        if could_tie(rule, other):
            raise ValidationError(
                {
                    "priority": _(
                        "Rule “%(other)s” (id %(id)s) has the same priority and could match the same events; "
                        "give one of them another priority or make their conditions exclusive."
                    )
                    % {"other": other.name, "id": other.pk}
                }
            )
