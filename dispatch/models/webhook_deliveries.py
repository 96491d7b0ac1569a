"""Webhook deliveries: one outbox message to one department system, retried with backoff."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .department_endpoints import DepartmentEndpoint
from .outbox_messages import OutboxMessage


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    DELIVERED = "delivered", _("delivered")
    FAILED = "failed", _("failed (gave up)")


class WebhookDelivery(models.Model):
    """One webhook to one department system for one outbox message, retried with backoff."""

    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(DepartmentEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    body = models.TextField(_("body"))
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    last_status_code = models.PositiveIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
        constraints = [
            # A redelivered outbox message never produces a second webhook.
            models.UniqueConstraint(fields=["message", "endpoint"], name="webhook_once_per_message_endpoint")
        ]
        indexes = [models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="webhook_pending_due")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.message.topic} → {self.endpoint.department}"
