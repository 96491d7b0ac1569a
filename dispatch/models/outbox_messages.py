"""The outbox: side effects written in the transaction that caused them, delivered after commit."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    """A side effect waiting to leave: written in the transaction that caused it.

    Intake and transitions never talk to Redis or a department's server while
    holding a row lock; they write a row here, and a Celery task delivers it
    after commit (and the periodic drain catches anything a lost task missed).
    """

    topic = models.CharField(_("topic"), max_length=64)
    event = models.ForeignKey(
        "incidents.Event", verbose_name=_("event"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    payload = models.JSONField(_("payload"), default=dict)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Delivered: every handler ran. A dead letter is never "processed"; it waits in `dead_at`.
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    # Dead letter (死信): it failed every attempt; the drain skips it until an admin retries it.
    dead_at = models.DateTimeField(_("dead letter since"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        ordering = ["id"]
        indexes = [
            # The drain reads only pending rows, oldest first.
            models.Index(fields=["id"], condition=Q(processed_at__isnull=True), name="outbox_pending"),
            # Dead letters are few; /healthz counts them on every probe.
            models.Index(fields=["dead_at"], condition=Q(dead_at__isnull=False), name="outbox_dead"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk}"

    @property
    def is_dead(self) -> bool:
        return self.dead_at is not None
