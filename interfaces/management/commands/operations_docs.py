"""Write the documents derived from the operations table (docs/PERMISSIONS.md's table, docs/LIFECYCLE.md)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from operations.docs import lifecycle_document, with_permission_table


class Command(BaseCommand):
    help = "Regenerate docs/LIFECYCLE.md and the operations table in docs/PERMISSIONS.md from operations/table.py."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Exit 1 if a document is out of date; write nothing.")

    def handle(self, *args, check: bool = False, **options):
        docs = Path(settings.BASE_DIR) / "docs"
        wanted = {
            docs / "PERMISSIONS.md": with_permission_table((docs / "PERMISSIONS.md").read_text()),
            docs / "LIFECYCLE.md": lifecycle_document(),
        }
        stale = [p for p, text in wanted.items() if not p.exists() or p.read_text() != text]
        if check:
            if stale:
                raise CommandError("Out of date: " + ", ".join(str(p) for p in stale) + " (run operations_docs)")
            self.stdout.write("Documents match the operations table.")
            return
        for path in stale:
            path.write_text(wanted[path])
            self.stdout.write(f"wrote {path}")
