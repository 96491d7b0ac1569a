"""Make the thumbnails of photos stored before thumbnails were made at upload."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from operations.services.thumbnails import thumbnails_make_missing, thumbnails_missing_count


class Command(BaseCommand):
    help = (
        "Make a thumbnail (320 px, WebP, beside the photo) for every photo that has none. Photos stored "
        "since thumbnails are made at upload already have one; running it again changes nothing. A photo "
        "whose file is missing or unreadable is named and left as it is (exit 1)."
    )

    def handle(self, *args, **options):
        total = thumbnails_missing_count()
        made, failed = 0, []
        progress = tqdm(total=total, unit="photo", disable=total == 0 or options["verbosity"] == 0, file=self.stderr)
        for attachment, ok in thumbnails_make_missing():
            if ok:
                made += 1
            else:
                failed.append(f"attachment {attachment.pk} ({attachment.file.name}): photo missing or unreadable")
            progress.update(1)
        progress.close()
        self.stdout.write(f"{made} thumbnail(s) made.")
        if failed:
            raise CommandError("\n".join(failed))
