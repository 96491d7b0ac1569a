"""Requests a supervisor decides: an extension (延期), a suspension (挂账) or an invalidation (作废)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Department

from .events import Event


class RequestKind(models.TextChoices):
    EXTENSION = "extension", _("extension (延期)")
    SUSPENSION = "suspension", _("suspension (挂账)")
    INVALIDATION = "invalidation", _("invalidation (作废)")


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    APPROVED = "approved", _("approved")
    REFUSED = "refused", _("refused")


class ApprovalRequest(models.Model):
    """Something a supervisor must approve: an extension, a suspension or an invalidation."""

    event = models.ForeignKey(Event, verbose_name=_("event"), on_delete=models.PROTECT, related_name="requests")
    kind = models.CharField(_("kind"), max_length=16, choices=RequestKind.choices)
    status = models.CharField(_("status"), max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    reason = models.TextField(_("reason"), max_length=2000)
    data = models.JSONField(_("details"), default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty when a department's own system asked."),
    )
    requested_by_department = models.ForeignKey(
        Department,
        verbose_name=_("requesting department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        verbose_name = _("approval request")
        verbose_name_plural = _("approval requests")
        ordering = ["-requested_at"]
        constraints = [
            # One open request of a kind per event: a second would be a double click.
            models.UniqueConstraint(
                fields=["event", "kind"], condition=Q(status="pending"), name="one_pending_request_per_kind"
            ),
        ]
        indexes = [models.Index(fields=["status", "kind"], name="request_status_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.event.code} · {self.get_status_display()}"
