"""Dispatch-side records: the outbox of side effects and in-page notifications."""

from __future__ import annotations

from django.conf import settings
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
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        ordering = ["id"]
        indexes = [
            # The drain reads only pending rows, oldest first.
            models.Index(fields=["id"], condition=Q(processed_at__isnull=True), name="outbox_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk}"


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


class DayType(models.TextChoices):
    ANY = "any", _("any day")
    WORKING = "working", _("working days")
    REST = "rest", _("rest days and holidays")


class RoutingMode(models.TextChoices):
    AUTO = "auto", _("dispatch automatically")
    SUGGEST = "suggest", _("suggest to the operator")


class TargetKind(models.TextChoices):
    RELATIVE = "relative", _("department of a type, in the nearest enclosing unit that has one")
    NAMED = "named", _("a named department")


class RoutingRule(models.Model):
    """Chooses the responsible department for an event.

    Empty conditions match everything. Among matching rules the lowest
    priority number wins; two rules that could match one event at the same
    priority are refused when saved, so the winner is always unique.
    """

    name = models.CharField(_("name"), max_length=100)
    priority = models.PositiveIntegerField(_("priority"), help_text=_("Lower numbers win."))
    is_active = models.BooleanField(_("active"), default=True)
    mode = models.CharField(_("mode"), max_length=16, choices=RoutingMode.choices, default=RoutingMode.SUGGEST)

    category = models.ForeignKey(
        "incidents.Category",
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("A subclass (小类) or a whole major class (大类); empty = any."),
    )
    region = models.ForeignKey(
        "accounts.OrgUnit",
        verbose_name=_("region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("This unit and everything inside it; empty = the whole city."),
    )
    urgencies = models.JSONField(_("urgencies"), default=list, blank=True, help_text=_("Empty = any."))
    sources = models.JSONField(_("sources"), default=list, blank=True, help_text=_("Empty = any."))
    time_from = models.TimeField(_("from (time of day)"), null=True, blank=True)
    time_to = models.TimeField(
        _("until (time of day)"), null=True, blank=True, help_text=_("May wrap past midnight, e.g. 22:00–06:00.")
    )
    day_type = models.CharField(_("day type"), max_length=16, choices=DayType.choices, default=DayType.ANY)
    keywords = models.CharField(
        _("keywords"), max_length=200, blank=True, help_text=_("Any of these words in the title or description.")
    )

    target_kind = models.CharField(_("target"), max_length=16, choices=TargetKind.choices, default=TargetKind.RELATIVE)
    department_type = models.ForeignKey(
        "accounts.DepartmentType",
        verbose_name=_("department type"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    highest_tier = models.PositiveSmallIntegerField(
        _("search from tier"),
        choices=[(1, _("city")), (2, _("district")), (3, _("street / town")), (4, _("community"))],
        default=3,
        help_text=_("Look for the department at this tier first, then in each enclosing unit above it."),
    )
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("named department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    co_handler_types = models.ManyToManyField(
        "accounts.DepartmentType", verbose_name=_("co-handler types"), blank=True, related_name="+"
    )

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return f"[{self.priority}] {self.name}"

    def clean(self) -> None:
        from .routing import validate_rule

        validate_rule(self)


class RoutingSuggestion(models.Model):
    """What routing proposed for an event that a rule in suggest mode matched."""

    event = models.OneToOneField(
        "incidents.Event", verbose_name=_("event"), on_delete=models.CASCADE, related_name="routing_suggestion"
    )
    rule = models.ForeignKey(RoutingRule, verbose_name=_("rule"), null=True, on_delete=models.SET_NULL)
    department = models.ForeignKey(
        "accounts.Department", verbose_name=_("department"), on_delete=models.CASCADE, related_name="+"
    )
    co_departments = models.ManyToManyField("accounts.Department", blank=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("routing suggestion")
        verbose_name_plural = _("routing suggestions")

    def __str__(self) -> str:
        return f"{self.event} → {self.department}"


def _new_secret() -> str:
    import secrets

    return secrets.token_urlsafe(32)


class DepartmentEndpoint(models.Model):
    """A department's own system: where we send signed webhooks, and the secret its requests are signed with."""

    department = models.OneToOneField(
        "accounts.Department", verbose_name=_("department"), on_delete=models.CASCADE, related_name="endpoint"
    )
    url = models.URLField(_("webhook URL"), blank=True, help_text=_("Empty: inbound API only, no webhooks."))
    secret = models.CharField(_("shared secret"), max_length=128, default=_new_secret)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("department system")
        verbose_name_plural = _("department systems")

    def __str__(self) -> str:
        return f"{self.department} → {self.url or '—'}"


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
