"""Photos of an event: before, after, on-site verification and co-handler notes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .events import Event


def attachment_path(instance: Attachment, filename: str) -> str:
    # `filename` is already server-generated (uuid + format extension).
    return f"events/{instance.created_at:%Y/%m}/{filename}"


class AttachmentKind(models.TextChoices):
    BEFORE = "before", _("before (report)")
    AFTER = "after", _("after (result)")
    VERIFY = "verify", _("on-site verification")
    NOTE = "note", _("co-handler note")


class Attachment(models.Model):
    """A photo, re-encoded on upload (EXIF and GPS stripped) and stored under a generated name."""

    event = models.ForeignKey(Event, verbose_name=_("event"), on_delete=models.PROTECT, related_name="attachments")
    kind = models.CharField(_("kind"), max_length=16, choices=AttachmentKind.choices)
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    # Made at upload (incidents.photos); empty for photos stored before thumbnails existed, until
    # `make_thumbnails` or the first request for it (operations.services.thumbnails) makes one.
    thumbnail = models.FileField(_("thumbnail"), upload_to=attachment_path, max_length=200, blank=True)
    content_type = models.CharField(_("content type"), max_length=32)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    size = models.PositiveIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True, blank=True, on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file.name}"
