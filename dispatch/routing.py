"""Routing: which department gets an event, and why every other rule lost.

`simulate()` answers "who would get this?" without filing anything; intake
calls the same `decide()` through `operations.services.intake.route_new_event()`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.grid_index import locate_grid
from accounts.models import Department, OrgUnit, Tier
from core.process_cache import ProcessCache
from dispatch.models import DayType, RoutingRule, TargetKind
from dispatch.rule_checks import in_window
from dispatch.workcalendar import is_working_day
from incidents.models import Category, Event, Source, Urgency


@dataclass
class Situation:
    """What routing looks at: the event, or a hypothetical one."""

    category: Category
    grid: OrgUnit
    urgency: int
    source: str
    at: datetime
    text: str = ""


@dataclass
class Candidate:
    rule: RoutingRule
    matched: bool
    reason: str = ""
    department: Department | None = None
    co_departments: list[Department] = field(default_factory=list)


@dataclass
class Decision:
    situation: Situation
    winner: Candidate | None
    candidates: list[Candidate]

    @property
    def department(self) -> Department | None:
        return self.winner.department if self.winner else None

    @property
    def co_departments(self) -> list[Department]:
        return self.winner.co_departments if self.winner else []


def _keywords(rule: RoutingRule) -> list[str]:
    return [w for w in rule.keywords.replace(",", " ").replace("，", " ").split() if w]


def _mismatch(rule: RoutingRule, s: Situation) -> str | None:
    """Why the rule does not match the situation, or None when it does."""
    category, region = rule.category, rule.region  # selected with the rules; None without a query
    if category is not None and category.pk not in (s.category.pk, s.category.parent_id):
        return _("category %(cat)s is not %(rule)s") % {"cat": s.category.name, "rule": category.name}
    if region is not None and not s.grid.path.startswith(region.path):
        return _("the place is outside %(region)s") % {"region": region.name}
    if rule.urgencies and s.urgency not in rule.urgencies:
        return _("urgency %(u)s is not one of %(list)s") % {
            "u": Urgency(s.urgency).label,
            "list": ", ".join(str(Urgency(u).label) for u in rule.urgencies),
        }
    if rule.sources and s.source not in rule.sources:
        return _("source %(s)s is not one of %(list)s") % {"s": Source(s.source).label, "list": ", ".join(rule.sources)}
    local = timezone.localtime(s.at)
    if not in_window(local.time(), rule.time_from, rule.time_to):
        return _("%(t)s is outside %(a)s–%(b)s") % {
            "t": local.strftime("%H:%M"),
            "a": rule.time_from.strftime("%H:%M") if rule.time_from else "00:00",
            "b": rule.time_to.strftime("%H:%M") if rule.time_to else "24:00",
        }
    if rule.day_type != DayType.ANY:
        working = is_working_day(local.date(), s.grid)
        if working != (rule.day_type == DayType.WORKING):
            return _("%(d)s is not one of the rule's %(type)s") % {
                "d": local.date().isoformat(),
                "type": DayType(rule.day_type).label,
            }
    words = _keywords(rule)
    if words and not any(w.lower() in s.text.lower() for w in words):
        return _("none of the keywords %(w)s appear") % {"w": " ".join(words)}
    return None


def _active_departments() -> dict[tuple[int, str], Department]:
    return {
        (d.type_id, d.org_unit.code): d
        for d in Department.objects.filter(is_active=True).select_related("org_unit", "type")
    }


def _active_rules() -> list[RoutingRule]:
    return list(
        RoutingRule.objects.filter(is_active=True)
        .select_related("category", "region", "department__org_unit", "department_type")
        .prefetch_related("co_handler_types")
        .order_by("priority", "id")
    )


def _active_subcategories() -> dict[str, Category]:
    return {c.code: c for c in Category.objects.filter(parent__isnull=False, is_active=True).select_related("parent")}


# Every intake evaluates every rule; rules and departments change a few times a year.
_departments: ProcessCache[dict[tuple[int, str], Department]] = ProcessCache("departments", _active_departments)
_rules: ProcessCache[list[RoutingRule]] = ProcessCache("routing-rules", _active_rules)
_subcategories: ProcessCache[dict[str, Category]] = ProcessCache("subcategories", _active_subcategories)


def active_subcategories() -> dict[str, Category]:
    """The 小类 in use, by code (a per-process copy: smart dispatch reads it on every suggestion)."""
    return _subcategories.get()


def forget_cached_rules(**_kwargs: object) -> None:
    """Signal receiver: a rule, department, category or unit changed (connected in DispatchConfig.ready)."""
    _rules.invalidate()
    _departments.invalidate()
    _subcategories.invalidate()


def _nearest(type_id: int, grid: OrgUnit, highest_tier: int) -> Department | None:
    """The department of this type in the nearest unit enclosing the grid, at `highest_tier` or above."""
    by_place = _departments.get()
    for code in reversed(grid.depth_codes[:highest_tier]):
        found = by_place.get((type_id, code))
        if found is not None:
            return found
    return None


def resolve_target(rule: RoutingRule, grid: OrgUnit) -> tuple[Department | None, list[Department], str]:
    if rule.target_kind == TargetKind.NAMED:
        lead = rule.department if rule.department and rule.department.is_active else None
        if lead is None:
            return None, [], _("its named department is missing or inactive")
        start_tier = lead.org_unit.tier
    else:
        type_id = rule.department_type_id
        lead = _nearest(type_id, grid, rule.highest_tier) if type_id is not None else None
        if lead is None:
            # validate_rule refuses a relative target without a type; one saved around it still reads.
            target_type = rule.department_type
            return (
                None,
                [],
                _("no %(type)s department at %(tier)s level or above serves this place")
                % {
                    "type": target_type.name if target_type is not None else "?",
                    "tier": Tier(rule.highest_tier).label,
                },
            )
        start_tier = rule.highest_tier
    co: list[Department] = []
    for co_type in rule.co_handler_types.all():
        found = _nearest(co_type.pk, grid, start_tier)
        if found and found != lead:
            co.append(found)
    return lead, co, ""


def _admits_category(rule: RoutingRule, category: Category) -> bool:
    """_mismatch's first test without its reason: the rule names no category, this one or its major class."""
    return rule.category is None or rule.category.pk in (category.pk, category.parent_id)


class _RulesByCategory:
    """The active rules a category can match (its own, its major class's, those of any category), in
    priority order; rebuilt whenever the process copy of the rules is."""

    def __init__(self) -> None:
        # (the rules list indexed, category id → its rules), replaced whole: a thread reading the
        # old pair while another rebuilds fills only the old index.
        self._state: tuple[list[RoutingRule] | None, dict[int, list[RoutingRule]]] = (None, {})

    def get(self, category: Category) -> list[RoutingRule]:
        rules = _rules.get()
        source, index = self._state
        if source is not rules:
            index = {}
            self._state = (rules, index)
        found = index.get(category.pk)
        if found is None:
            found = index[category.pk] = [r for r in rules if _admits_category(r, category)]
        return found


_rules_by_category = _RulesByCategory()


def route(situation: Situation) -> Decision:
    """`decide` over the rules the situation's category can match: the same winner, without a reason
    for each rule of another category (intake's path, #20; `simulate` explains every rule)."""
    return decide(situation, _rules_by_category.get(situation.category))


def decide(situation: Situation, rules: list[RoutingRule] | None = None) -> Decision:
    """Evaluate every active rule in priority order; the first that matches and resolves a department wins.

    `rules`: a priority-ordered subset of the active rules known to hold every rule that could match
    (history_router passes the rules of the event's category and place); the winner is the same."""
    rules = _rules.get() if rules is None else rules
    candidates: list[Candidate] = []
    winner: Candidate | None = None
    for rule in rules:
        why = _mismatch(rule, situation)
        if why:
            candidates.append(Candidate(rule, matched=False, reason=why))
            continue
        if winner is not None:
            candidates.append(
                Candidate(rule, matched=True, reason=_("rule %(w)s comes first") % {"w": winner.rule.name})
            )
            continue
        lead, co, why = resolve_target(rule, situation.grid)
        if lead is None:
            candidates.append(Candidate(rule, matched=True, reason=why))
            continue
        winner = Candidate(rule, matched=True, department=lead, co_departments=co)
        candidates.append(winner)
    return Decision(situation, winner, candidates)


def simulate(
    *,
    category: Category,
    latitude: float,
    longitude: float,
    urgency: int | None = None,
    source: str = Source.GRID_WORKER,
    at: datetime | None = None,
    text: str = "",
) -> Decision:
    """ "Who would get this?" — the same decision intake makes, without filing anything."""

    grid = locate_grid(latitude, longitude)
    if grid is None:
        raise ValidationError({"location": _("The point lies outside every grid of the city.")})
    return decide(
        Situation(
            category=category,
            grid=grid,
            urgency=urgency or category.default_urgency,
            source=source,
            at=at or timezone.now(),
            text=text,
        )
    )


def situation_of(event: Event) -> Situation:
    return Situation(
        category=event.category,
        grid=event.grid,
        urgency=event.urgency,
        source=event.source,
        at=event.reported_at,
        text=f"{event.title} {event.description}",
    )


def nearest_of_type(type_code: str, grid: OrgUnit) -> Department | None:
    """The active department of this type in the nearest unit enclosing the grid (the grid's own first)."""
    by_place = _departments.get()
    for code in reversed(grid.depth_codes):
        for (_type_id, unit_code), found in by_place.items():
            if unit_code == code and found.type.code == type_code:
                return found
    return None


def _concerns(rule: RoutingRule, category: Category, grid: OrgUnit) -> bool:
    """The rule's category and region admit the place: _mismatch's first two tests, without the reasons."""
    if not _admits_category(rule, category):
        return False
    return rule.region is None or grid.path.startswith(rule.region.path)


@dataclass
class _Plan:
    """What can still tell two events of one category and grid apart, for the rules that concern them."""

    rules: list[RoutingRule]
    windows: list[RoutingRule]  # the rules with a time window
    daily: bool  # some rule wants working days or rest days
    worded: list[list[str]]  # each worded rule's keywords


def history_router() -> Callable[[Category, OrgUnit, str, datetime, str], Department | None]:
    """`decide()` for many hypothetical events (the history generator): the winner's department.

    Remembers answers by category, grid and source, and by what the rules concerning that category
    and grid could tell apart: each time window's verdict, working day or not, each rule's keyword
    verdict. Those are everything `_mismatch` reads of a situation (urgency is the category's), so a
    remembered answer is the one `decide` would give; misses evaluate only the concerned rules."""
    rules = _rules.get()
    plans: dict[tuple[int, int], _Plan] = {}
    answers: dict[tuple, Department | None] = {}

    def plan_for(category: Category, grid: OrgUnit) -> _Plan:
        concerned = [r for r in rules if _concerns(r, category, grid)]
        return _Plan(
            rules=concerned,
            windows=[r for r in concerned if r.time_from or r.time_to],
            daily=any(r.day_type != DayType.ANY for r in concerned),
            worded=[words for r in concerned if (words := _keywords(r))],
        )

    def route(category: Category, grid: OrgUnit, source: str, at: datetime, text: str) -> Department | None:
        plan = plans.get((category.pk, grid.pk))
        if plan is None:
            plan = plans[(category.pk, grid.pk)] = plan_for(category, grid)
        local = timezone.localtime(at) if plan.windows or plan.daily else None
        lowered = text.lower() if plan.worded else ""
        key = (
            category.pk,
            grid.pk,
            source,
            tuple(in_window(local.time(), r.time_from, r.time_to) for r in plan.windows) if local else (),
            is_working_day(local.date(), grid) if local and plan.daily else None,
            tuple(any(w.lower() in lowered for w in words) for words in plan.worded),
        )
        if key not in answers:
            situation = Situation(category, grid, category.default_urgency, source, at, text)
            answers[key] = decide(situation, plan.rules).department
        return answers[key]

    return route
