"""`setup_check`: what this city still lacks to run, one line per finding with how to fix it."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from dispatch.setup_checks import BLOCKING_CALENDAR_DAYS, setup_findings


class Command(BaseCommand):
    help = (
        "List what this city still lacks to run, each with how to fix it: calendar days not known in the next "
        "365 days, categories without time limits, grids without a grid worker, streets without an operator, "
        "departments without a handler, department types the routing rules need but a district lacks. Exits 1 "
        f"when anything blocks (calendar days within {BLOCKING_CALENDAR_DAYS} days, time limits, operators), "
        "else 0."
    )

    def handle(self, *args, **options):
        findings = setup_findings()
        for finding in findings:
            style = self.style.ERROR if finding.blocking else self.style.WARNING
            self.stdout.write(style(finding.line()))
        blocking = sum(f.blocking for f in findings)
        summary = f"{blocking} blocking, {len(findings) - blocking} warnings."
        if blocking:
            raise CommandError(f"The city is not ready to run: {summary}", returncode=1)
        self.stdout.write(self.style.SUCCESS(f"The city can run: {summary}"))
