"""Thumbnails (缩略图) for photos stored before they were made at upload.

Not an event operation: a thumbnail is derived from a stored photo, changes no
state and writes no history. Made lazily on the first request for one, or for all
with `manage.py make_thumbnails`. Two makers racing for the same photo both
write a file; the row takes the first, the second deletes its own.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.core.files.base import ContentFile
from PIL import Image, UnidentifiedImageError

from incidents.models import Attachment
from incidents.photos import thumbnail_from_bytes, thumbnail_name


def attachment_thumbnail_make(attachment: Attachment) -> bool:
    """Give `attachment` a thumbnail if it has none; False when the photo itself cannot be read.

    `attachment.thumbnail` names the thumbnail afterwards (a racing maker's, if it was first).
    """
    if attachment.thumbnail:
        return True
    storage, photo = attachment.file.storage, attachment.file.name
    if not photo:
        return False
    try:
        with storage.open(photo, "rb") as handle:
            data = handle.read()
        thumb = thumbnail_from_bytes(data)
    except (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError, SyntaxError):
        return False
    name = storage.save(thumbnail_name(photo), ContentFile(thumb))
    claimed = Attachment.objects.filter(pk=attachment.pk, thumbnail="").update(thumbnail=name)
    if not claimed:
        storage.delete(name)
        attachment.refresh_from_db(fields=["thumbnail"])
        return bool(attachment.thumbnail)
    attachment.thumbnail.name = name
    return True


def thumbnails_make_missing(batch_size: int = 200) -> Iterator[tuple[Attachment, bool]]:
    """Make the missing thumbnails, yielding each photo and whether it got one (for a progress bar)."""
    missing = Attachment.objects.filter(thumbnail="").order_by("pk")
    last = 0
    while True:
        chunk = list(missing.filter(pk__gt=last)[:batch_size])
        if not chunk:
            return
        for attachment in chunk:
            yield attachment, attachment_thumbnail_make(attachment)
        last = chunk[-1].pk


def thumbnails_missing_count() -> int:
    return Attachment.objects.filter(thumbnail="").count()
