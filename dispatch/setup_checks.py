"""What a city still lacks to run, each with how to fix it: `setup_check` and the admin home.

Blocking (the city cannot run safely): a calendar that does not know the
public holidays of the next 90 days (deadlines would count a holiday as a
working day), a category without a time limit for handling or overall (its
events would run with no deadline), a street without an operator (nobody
dispatches its events). Warnings: a calendar that does not know the next 365
days, a grid without a grid worker (a community-level grid worker covers all
its community's grids), a department without a handler, and a department
type that the routing rules send events to but a district lacks (its events
then go to the city's department of that type, or to an operator by hand).

Every check reads the tables as they are, however they were filled (the
admin, `calendar_import`, `load_reference`, a city import); each is a few
set-based queries, so a city of 100,000 grids is checked in one pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Department, DepartmentType, Membership, OrgUnit, Role, Tier
from dispatch.calendar import all_calendars
from dispatch.models import BusinessCalendar, RoutingRule, SlaStep, TargetKind
from dispatch.sla import policy_for
from incidents.models import Category, Urgency

BLOCKING, WARNING = "blocking", "warning"
BLOCKING_CALENDAR_DAYS = 90
WARNING_CALENDAR_DAYS = 365
LIMITED_STEPS = (SlaStep.HANDLE, SlaStep.OVERALL)  # the clocks every event runs
SHOWN_RULES = 3  # rule names quoted in one finding


@dataclass(frozen=True)
class Finding:
    """One thing the city lacks: how serious, which check, what is missing and how to fix it."""

    severity: str  # BLOCKING or WARNING
    check: str  # units, calendar, time_limits, grid_workers, operators, handlers, district_departments
    what: str
    fix: str

    @property
    def blocking(self) -> bool:
        return self.severity == BLOCKING

    def line(self) -> str:
        return f"{self.severity.upper():<8} {self.check}: {self.what} Fix: {self.fix}"


def _unit(unit: OrgUnit) -> str:
    return f"{unit.name} ({unit.code})"


# --- calendar


def calendar_findings(today: date) -> list[Finding]:
    """Calendars that do not know the holidays and make-up days of the next 90 (blocking) or 365 days."""
    found = []
    if not BusinessCalendar.objects.filter(org_unit__isnull=True).exists():
        found.append(
            Finding(
                WARNING,
                "calendar",
                "The city has no business calendar; deadlines use built-in Monday–Friday 08:30–17:30 hours.",
                "Run `python manage.py load_reference`, or add the city's calendar in the admin (Business calendars).",
            )
        )
    for cal in all_calendars():
        first_unknown = cal.known_through(today) + timedelta(days=1)
        if first_unknown > today + timedelta(days=WARNING_CALENDAR_DAYS):
            continue
        first_unknown = max(first_unknown, today)
        blocking = first_unknown <= today + timedelta(days=BLOCKING_CALENDAR_DAYS)
        within = BLOCKING_CALENDAR_DAYS if blocking else WARNING_CALENDAR_DAYS
        found.append(
            Finding(
                BLOCKING if blocking else WARNING,
                "calendar",
                f"Calendar “{cal.name}” does not know public holidays and make-up days from "
                f"{first_unknown.isoformat()} (within the next {within} days); deadlines over those days "
                "would count a holiday as a working day.",
                f"Enter {first_unknown.year}'s holidays and make-up working days from the State Council notice: "
                "`python manage.py calendar_import FILE` (CSV date,kind,name; --unit CODE for a unit's calendar) "
                "or in the admin (Business calendars → the calendar → days).",
            )
        )
    return found


# --- time limits


def _limited_categories() -> QuerySet[Category]:
    """The categories an event can be filed under: active subclasses, and active classes without any."""
    with_children = Category.objects.filter(is_active=True, parent__isnull=False).values("parent_id")
    return (
        Category.objects.filter(is_active=True)
        .filter(Q(parent__isnull=False) | ~Q(pk__in=with_children))
        .select_related("parent")
        .order_by("code")
    )


def time_limit_findings() -> list[Finding]:
    """Categories with no time limit (SlaPolicy) for handling or overall at some urgency: blocking."""
    found = []
    for category in _limited_categories():
        gaps = []
        for step in LIMITED_STEPS:
            missing = [u for u in Urgency if policy_for(category, u.value, step) is None]
            if missing:
                urgencies = "any urgency" if len(missing) == len(Urgency) else ", ".join(str(u.label) for u in missing)
                gaps.append(f"{step} ({urgencies})")
        if gaps:
            found.append(
                Finding(
                    BLOCKING,
                    "time_limits",
                    f"Category {category.code} {category.name} has no time limit for {'; '.join(gaps)}; its events "
                    "would run without a deadline.",
                    "Add a time limit for the step in the admin (SLA policies) for this category, its class or all "
                    "categories; `python manage.py load_reference` adds the defaults.",
                )
            )
    return found


# --- people


def _holders(role: str) -> QuerySet[Membership]:
    return Membership.objects.filter(role=role, user__is_active=True)


def _uncovered_grids() -> QuerySet[OrgUnit]:
    """Active grids with no grid worker of their own nor one of their community."""
    units = _holders(Role.GRID_WORKER).values("org_unit_id")
    return (
        OrgUnit.objects.filter(tier=Tier.GRID, is_active=True)
        .exclude(pk__in=units)
        .exclude(parent_id__in=units)
        .order_by("path")
    )


def _streets_without_operator() -> QuerySet[OrgUnit]:
    return (
        OrgUnit.objects.filter(tier=Tier.STREET, is_active=True)
        .exclude(pk__in=_holders(Role.OPERATOR).values("org_unit_id"))
        .order_by("path")
    )


def _departments_without_handler() -> QuerySet[Department]:
    return (
        Department.objects.filter(is_active=True)
        .exclude(pk__in=_holders(Role.HANDLER).values("department_id"))
        .select_related("org_unit")
        .order_by("org_unit__path", "type__code")
    )


def grid_worker_findings(limit: int | None = None) -> list[Finding]:
    grids = _uncovered_grids()
    fix = (
        "Give the grid a grid worker, or its community one (a community-level grid worker covers all its "
        "community's grids): PEOPLE.csv role grid_worker, or the admin (Memberships)."
    )
    found = [
        Finding(WARNING, "grid_workers", f"Grid {_unit(grid)} has no grid worker; nobody patrols or reports it.", fix)
        for grid in (grids[:limit] if limit is not None else grids)
    ]
    return found + _more(grids, found, WARNING, "grid_workers", "grids have no grid worker.", fix)


def operator_findings(limit: int | None = None) -> list[Finding]:
    streets = _streets_without_operator()
    fix = "Give the street an operator (PEOPLE.csv role operator with the street's code, or the admin: Memberships)."
    found = [
        Finding(
            BLOCKING,
            "operators",
            f"Street {_unit(street)} has no operator; nobody at the street dispatches, checks or closes its events.",
            fix,
        )
        for street in (streets[:limit] if limit is not None else streets)
    ]
    return found + _more(streets, found, BLOCKING, "operators", "streets have no operator.", fix)


def handler_findings(limit: int | None = None) -> list[Finding]:
    departments = _departments_without_handler()
    fix = "Give the department a handler (PEOPLE.csv role handler with the department's code, or the admin)."
    found = [
        Finding(
            WARNING,
            "handlers",
            f"Department {dept.name} ({dept.code}, {dept.org_unit.name}) has no handler; events routed to it wait "
            "unaccepted.",
            fix,
        )
        for dept in (departments[:limit] if limit is not None else departments)
    ]
    return found + _more(departments, found, WARNING, "handlers", "departments have no handler.", fix)


def _more(query: QuerySet, shown: list[Finding], severity: str, check: str, what: str, fix: str) -> list[Finding]:
    """One summary line for the rows a limited list leaves out."""
    if not shown:
        return []
    rest = query.count() - len(shown)
    if rest <= 0:
        return []
    return [Finding(severity, check, f"… and {rest} more {what}", f"{fix} `python manage.py setup_check` lists all.")]


# --- departments the routing rules need


def _relative_rules() -> list[RoutingRule]:
    return list(
        RoutingRule.objects.filter(is_active=True, target_kind=TargetKind.RELATIVE, department_type__isnull=False)
        .select_related("department_type", "region")
        .prefetch_related("co_handler_types")
        .order_by("priority", "id")
    )


def _applies_within(rule: RoutingRule, unit: OrgUnit) -> bool:
    region = rule.region
    return region is None or unit.path.startswith(region.path) or region.path.startswith(unit.path)


def _needed_types(rules: Iterable[RoutingRule], unit: OrgUnit) -> dict[DepartmentType, list[str]]:
    """Department type → the names of the rules that look for it at this unit (lead or co-handler)."""
    needed: dict[DepartmentType, list[str]] = {}
    for rule in rules:
        if not _applies_within(rule, unit):
            continue
        # A search starts at the rule's tier and goes up: it passes through every district when it
        # starts at a street or a district, and needs the city only when it starts there (below, a
        # district's department is the one the city lacks, reported for that district).
        if unit.tier == Tier.CITY and rule.highest_tier != Tier.CITY:
            continue
        if unit.tier != Tier.CITY and rule.highest_tier < unit.tier:
            continue
        lead = rule.department_type
        if lead is not None:
            needed.setdefault(lead, []).append(rule.name)
        for co in rule.co_handler_types.all():
            needed.setdefault(co, []).append(rule.name)
    return needed


def district_department_findings() -> list[Finding]:
    """Department types the active relative routing rules (the templates among them) need but a district lacks.

    The search goes up from the event's street: a district without the type sends those events to the
    city's department of that type, or, if the city has none either, leaves them to an operator.
    """
    rules = _relative_rules()
    units = list(OrgUnit.objects.filter(tier__in=(Tier.CITY, Tier.DISTRICT), is_active=True).order_by("path"))
    have = set(Department.objects.filter(is_active=True).values_list("org_unit_id", "type_id"))
    cities = {u.pk for u in units if u.tier == Tier.CITY}
    city_has = {type_id for unit_id, type_id in have if unit_id in cities}
    found = []
    for unit in units:
        for dept_type, rule_names in sorted(_needed_types(rules, unit).items(), key=lambda item: item[0].code):
            if (unit.pk, dept_type.pk) in have:
                continue
            quoted = "、".join(rule_names[:SHOWN_RULES]) + (" …" if len(rule_names) > SHOWN_RULES else "")
            if unit.tier == Tier.CITY:
                then = "those events are left for an operator to dispatch by hand"
            elif dept_type.pk in city_has:
                then = f"its {dept_type.name} events go to the city's {dept_type.name} department"
            else:
                then = "those events are left for an operator to dispatch by hand"
            level = "The city" if unit.tier == Tier.CITY else "District"
            found.append(
                Finding(
                    WARNING,
                    "district_departments",
                    f"{level} {_unit(unit)} has no {dept_type.name} ({dept_type.code}) department, which routing "
                    f"rules need ({quoted}); {then}.",
                    f"Add the {dept_type.name} department of {unit.name} (DEPARTMENTS.csv or the admin: "
                    "Departments), or change those rules.",
                )
            )
    return found


def unit_findings() -> list[Finding]:
    """A city with no grids has nowhere to file an event: blocking."""
    if OrgUnit.objects.filter(tier=Tier.GRID, is_active=True).exists():
        return []
    return [
        Finding(
            BLOCKING,
            "units",
            "The city has no grids; no event can be placed.",
            "Import the city's org units (city, districts, streets, communities, grids) with their boundaries.",
        )
    ]


def setup_findings(today: date | None = None, limit: int | None = None) -> list[Finding]:
    """Everything the city lacks, blocking findings first; `limit` caps the lines per kind of unit (the admin)."""
    today = today or timezone.localdate()
    found = [
        *unit_findings(),
        *calendar_findings(today),
        *time_limit_findings(),
        *operator_findings(limit),
        *grid_worker_findings(limit),
        *handler_findings(limit),
        *district_department_findings(),
    ]
    return sorted(found, key=lambda f: not f.blocking)  # stable: each check's order kept
