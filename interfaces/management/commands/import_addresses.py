"""Import the city's standard-address list (门牌地址 CSV: address,latitude,longitude)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.addresses import import_addresses


class Command(BaseCommand):
    help = (
        "Import standard addresses (门牌地址) from a CSV FILE with the header address,latitude,longitude "
        "(WGS-84). All or nothing: one bad row imports nothing and every bad row is named. A known address "
        "gets the new point."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                result = import_addresses(handle, name=str(path))
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path}: cannot read: {exc}") from None
        if result.errors:
            for line in result.errors:
                self.stderr.write(line)
            raise CommandError(f"{path}: {len(result.errors)} problem(s); nothing imported.")
        self.stdout.write(f"{path}: {result.created} added, {result.updated} updated.")
