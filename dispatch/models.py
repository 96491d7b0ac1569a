"""Dispatch-side records: the outbox of side effects and in-page notifications."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dispatch.choices import DayType, RoutingMode, TargetKind
from dispatch.periods import overlap_message
from dispatch.rule_checks import validate_rule


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
        others = RoutingRule.objects.filter(is_active=True, priority=self.priority).select_related("category", "region")
        validate_rule(self, others.exclude(pk=self.pk) if self.pk else others)


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


class BusinessCalendar(models.Model):
    """Working hours and day overrides (holidays, 调休 make-up days).

    The city's calendar has no org unit; a unit may have its own, which then
    applies to everything inside it.
    """

    name = models.CharField(_("name"), max_length=64)
    org_unit = models.OneToOneField(
        "accounts.OrgUnit",
        verbose_name=_("org unit"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="calendar",
        help_text=_("Empty for the city-wide default calendar."),
    )

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        constraints = [
            models.UniqueConstraint(
                fields=["org_unit"], condition=Q(org_unit__isnull=True), name="one_default_calendar"
            )
        ]

    def __str__(self) -> str:
        return self.name


class WorkingPeriod(models.Model):
    """One stretch of working time on a weekday (0 = Monday), e.g. 08:30–12:00."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="periods")
    weekday = models.PositiveSmallIntegerField(
        _("weekday"),
        choices=[
            (0, _("Monday")),
            (1, _("Tuesday")),
            (2, _("Wednesday")),
            (3, _("Thursday")),
            (4, _("Friday")),
            (5, _("Saturday")),
            (6, _("Sunday")),
        ],
    )
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"))

    class Meta:
        verbose_name = _("working period")
        verbose_name_plural = _("working periods")
        ordering = ["weekday", "start"]
        constraints = [models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="period_ends_after_start")]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"

    def clean(self) -> None:
        """Refuse a period that shares minutes with another of the same calendar and weekday.

        Overlaps would count those minutes twice (08:00–12:00 and 10:00–14:00
        would make 360 minutes end at 12:00). The admin's inline formset checks
        the submitted rows against each other instead (they may all be moving)
        and sets `_siblings_checked`.
        """
        if self.start is None or self.end is None or self.calendar_id is None or self.weekday is None:
            return
        if getattr(self, "_siblings_checked", False):
            return
        clash = (
            WorkingPeriod.objects.filter(
                calendar_id=self.calendar_id, weekday=self.weekday, start__lt=self.end, end__gt=self.start
            )
            .exclude(pk=self.pk)
            .first()
        )
        if clash is not None:
            raise ValidationError({"start": overlap_message(clash.start, clash.end)})


class CalendarDay(models.Model):
    """A date that differs from the weekly pattern: a public holiday, or a make-up working day (调休)."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("date"))
    is_working = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="calendar_day_unique")]

    def __str__(self) -> str:
        return f"{self.date} {'working' if self.is_working else 'rest'} {self.note}"


class SlaStep(models.TextChoices):
    DISPATCH = "dispatch", _("dispatch")
    ACCEPT = "accept", _("accept")
    HANDLE = "handle", _("handle")
    VERIFY = "verify", _("verify")
    CLOSE = "close", _("close")
    OVERALL = "overall", _("overall")


class TimeUnit(models.TextChoices):
    WORKING_HOURS = "working_hours", _("working hours")
    WORKING_DAYS = "working_days", _("working days")
    NATURAL_HOURS = "natural_hours", _("natural hours")


class SlaPolicy(models.Model):
    """A time limit for one step, by category (小类 or 大类, empty = any) and urgency (empty = any).

    The most specific policy applies: subclass before class before default,
    a named urgency before "any".
    """

    category = models.ForeignKey(
        "incidents.Category", verbose_name=_("category"), null=True, blank=True, on_delete=models.CASCADE
    )
    urgency = models.PositiveSmallIntegerField(
        _("urgency"), null=True, blank=True, choices=[(1, _("normal")), (2, _("urgent")), (3, _("critical"))]
    )
    step = models.CharField(_("step"), max_length=16, choices=SlaStep.choices)
    limit = models.DecimalField(_("limit"), max_digits=7, decimal_places=2)
    unit = models.CharField(_("unit"), max_length=16, choices=TimeUnit.choices, default=TimeUnit.WORKING_HOURS)
    yellow_ratio = models.DecimalField(
        _("yellow at"), max_digits=3, decimal_places=2, default=0.8, help_text=_("Share of the limit used, e.g. 0.80.")
    )

    class Meta:
        verbose_name = _("time-limit policy")
        verbose_name_plural = _("time-limit policies")
        ordering = ["step", "category__code", "urgency"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "urgency", "step"], name="sla_policy_unique", nulls_distinct=False
            ),
            models.CheckConstraint(condition=Q(limit__gt=0), name="sla_policy_positive_limit"),
            models.CheckConstraint(condition=Q(yellow_ratio__gt=0, yellow_ratio__lt=1), name="sla_policy_yellow_ratio"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_step_display()} · {self.category or _('any category')} · {self.limit} {self.get_unit_display()}"
        )


class Light(models.TextChoices):
    GREEN = "green", _("green")
    YELLOW = "yellow", _("yellow")
    RED = "red", _("red")


class SlaClock(models.Model):
    """One step's clock for one event: start, due, original due, pauses, breach.

    `next_check_at` is the next threshold (yellow, then due) the sweep must
    act on; it is NULL once both fired, while paused, and after the clock
    stops. The sweep reads only rows with next_check_at <= now, through the
    partial index below, whatever the number of open events.
    """

    event = models.ForeignKey("incidents.Event", on_delete=models.CASCADE, related_name="clocks")
    step = models.CharField(_("step"), max_length=16, choices=SlaStep.choices)
    policy = models.ForeignKey(SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    working_time = models.BooleanField(_("counts working time"), default=True)
    limit_minutes = models.PositiveIntegerField(_("limit (minutes)"))
    yellow_ratio = models.DecimalField(max_digits=3, decimal_places=2, default=0.8)
    extension_minutes = models.PositiveIntegerField(_("extension (minutes)"), default=0)
    paused_minutes = models.PositiveIntegerField(_("paused (minutes)"), default=0)
    pauses = models.JSONField(_("paused intervals"), default=list, blank=True)

    started_at = models.DateTimeField(_("started at"))
    original_due_at = models.DateTimeField(_("original due at"))
    due_at = models.DateTimeField(_("due at"))
    yellow_at = models.DateTimeField(_("yellow at"))
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    breached_at = models.DateTimeField(_("breached at"), null=True, blank=True)
    elapsed_minutes = models.FloatField(_("elapsed (minutes, pauses excluded)"), null=True, blank=True)
    light = models.CharField(_("light"), max_length=8, choices=Light.choices, default=Light.GREEN)
    yellow_notified = models.BooleanField(default=False)
    red_notified = models.BooleanField(default=False)
    next_check_at = models.DateTimeField(null=True, blank=True)
    # The deadline was computed over days whose holidays the calendar does not know
    # (Monday–Friday assumed there); set again at every recompute. db_default: bulk loaders omit it.
    calendar_unknown = models.BooleanField(_("calendar unknown"), default=False, db_default=False)

    class Meta:
        verbose_name = _("time-limit clock")
        verbose_name_plural = _("time-limit clocks")
        ordering = ["event_id", "started_at", "id"]
        indexes = [
            # The sweep's only read: thresholds that have come due.
            models.Index(
                fields=["next_check_at"], condition=Q(next_check_at__isnull=False), name="slaclock_next_check"
            ),
            models.Index(fields=["event", "step"], name="slaclock_event_step"),
            # /healthz and the admin count running deadlines that are guesses; normally none.
            models.Index(
                fields=["id"],
                condition=Q(calendar_unknown=True, stopped_at__isnull=True),
                name="slaclock_calendar_unknown",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "step"], condition=Q(stopped_at__isnull=True), name="one_running_clock_per_step"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.step} due {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def running(self) -> bool:
        return self.stopped_at is None
