"""Time-limit clocks: one per step of an event, with its deadline, pauses, breach and traffic light."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .sla_policies import SlaPolicy, SlaStep


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

    # Indexed by slaclock_event_step, which leads with it.
    event = models.ForeignKey("incidents.Event", on_delete=models.CASCADE, related_name="clocks", db_index=False)
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
            # The roll-up report's live part: running overall deadlines that came due since a day was
            # rolled up (dispatch.rollups.came_due); a handful, the sweep breaches them within a minute.
            models.Index(
                fields=["due_at"],
                condition=Q(step="overall", stopped_at__isnull=True, paused_at__isnull=True, breached_at__isnull=True),
                name="slaclock_overall_running_due",
            ),
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
