"""In-page notifications: the lines of a user's list, each produced once per outbox message."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .outbox_messages import OutboxMessage


class Notification(models.Model):
    """A line in a user's in-page notification list (the badge counts unread ones)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="notifications"
    )
    event = models.ForeignKey(
        "incidents.Event", verbose_name=_("event"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=32)
    text = models.CharField(_("text"), max_length=300)
    # The outbox message that produced it: redelivery of one message cannot notify twice.
    source_message = models.ForeignKey(
        OutboxMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_unread")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "source_message"],
                condition=Q(source_message__isnull=False),
                name="notification_once_per_message",
            )
        ]

    def __str__(self) -> str:
        return self.text
