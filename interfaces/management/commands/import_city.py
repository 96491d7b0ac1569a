"""Import a city (导入城市): org units with boundaries, departments, people; all or nothing."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from accounts.city_import import ImportReport, Source, import_city


def _read(path: str | None) -> Source | None:
    if path is None:
        return None
    try:
        return Source(Path(path).name, Path(path).read_bytes())
    except OSError as exc:
        raise CommandError(f"{path}: cannot read: {exc.strerror}") from None


class Command(BaseCommand):
    help = (
        "Import a city's org units (GeoJSON FeatureCollection: code, name, parent[, tier]; Polygon or "
        "MultiPolygon), departments (CSV code,name,type,unit) and people (CSV username,full_name,phone,role,"
        "unit,department). Any subset of the three; references resolve against the files and the database. "
        "Every problem is printed as FILE: feature N|row N: field: message and nothing is written; "
        "running it again updates, never duplicates."
    )

    def add_arguments(self, parser):
        parser.add_argument("--units", metavar="UNITS.geojson", help="Org units with boundaries (GeoJSON).")
        parser.add_argument("--departments", metavar="DEPARTMENTS.csv", help="Departments (UTF-8 CSV with header).")
        parser.add_argument("--people", metavar="PEOPLE.csv", help="People and their roles (UTF-8 CSV with header).")
        parser.add_argument("--dry-run", action="store_true", help="Validate and report; write nothing.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, **options):
        sources = {name: _read(options[name]) for name in ("units", "departments", "people")}
        if not any(sources.values()):
            raise CommandError("Give at least one of --units, --departments, --people.")
        quiet = options["no_progress"] or options["verbosity"] < 1

        def progress(label: str, total: int) -> tqdm:
            return tqdm(total=total, desc=label, unit="", disable=quiet, file=sys.stderr)

        if not quiet:
            self.stderr.write("Reading and checking the files (a city of 100,000 grids takes a minute or two)…")
        report = import_city(**sources, dry_run=options["dry_run"], progress=progress)
        if not report.ok:
            for problem in report.problems:
                self.stderr.write(str(problem))
            raise CommandError(f"{len(report.problems)} problem(s); nothing was written.")
        self._summary(report)

    def _summary(self, report: ImportReport) -> None:
        verb = "would be" if report.dry_run else "were"
        for label, counts in (
            ("org units", report.units),
            ("departments", report.departments),
            ("users", report.users),
            ("memberships", report.memberships),
        ):
            self.stdout.write(f"{label}: {counts.created} {verb} created, {counts.updated} {verb} updated")
        if report.department_types_added:
            self.stdout.write(f"department types {verb} added: {', '.join(report.department_types_added)}")
        if report.dry_run:
            self.stdout.write(self.style.WARNING("Dry run: nothing was written."))
            return
        if report.new_usernames:
            self.stdout.write(
                f"{len(report.new_usernames)} new user(s) have no password yet and cannot sign in until one is set: "
                "`python manage.py changepassword <username>` for each, or in the admin: Users → the user → "
                "the password form (Set password)."
            )
            shown = report.new_usernames[:20]
            more = len(report.new_usernames) - len(shown)
            self.stdout.write("  " + ", ".join(shown) + (f" … and {more} more" if more else ""))
        self.stdout.write(self.style.SUCCESS("City imported."))
