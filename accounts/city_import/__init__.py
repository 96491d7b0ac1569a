"""Importing a city (导入城市): its org units with boundaries, its departments and its people.

`import_city()` is the one implementation behind `manage.py import_city` and
the admin's "Import a city" page: parse (the files' form) → validate (against
each other and the database; every problem, each with its file, feature/row
and field) → apply (bulk writes), all in one transaction and only when
nothing is wrong. `dry_run` validates and reports what would change.
"""

from __future__ import annotations

from django.db import transaction

from accounts.city_import.apply import Progress, apply, silent
from accounts.city_import.parse import parse
from accounts.city_import.records import ImportReport, Problem, Source
from accounts.city_import.validate import Plan, validate

__all__ = ["ImportReport", "Problem", "Source", "import_city"]


def _count(plan: Plan, report: ImportReport) -> None:
    report.units.updated = len(plan.db_unit_codes)
    report.units.created = len(plan.units) - report.units.updated
    report.departments.updated = len(plan.db_department_codes)
    report.departments.created = len(plan.departments) - report.departments.updated
    report.department_types_added = [code for code, _n, _d in plan.types_to_add]
    usernames = {row.username for row in plan.people}
    report.new_usernames = sorted(usernames - plan.db_usernames)
    report.users.created = len(report.new_usernames)
    report.users.updated = len(usernames) - report.users.created
    keys = {(r.username, r.role, r.unit if r.role != "handler" else "", r.department) for r in plan.people}
    report.memberships.created = len(keys - plan.db_memberships)
    report.memberships.updated = len(keys) - report.memberships.created


def import_city(
    *,
    units: Source | None = None,
    departments: Source | None = None,
    people: Source | None = None,
    dry_run: bool = False,
    progress: Progress = silent,
) -> ImportReport:
    """Import whichever of the three files are given: all of it, or (on any problem, or a dry run) nothing."""
    with transaction.atomic():
        plan, problems = validate(parse(units, departments, people))
        report = ImportReport(problems=problems, dry_run=dry_run)
        _count(plan, report)
        if problems or dry_run:
            return report
        report.department_types_added = []  # apply lists the ones it adds
        apply(plan, report, progress)
        report.written = True
    return report
