"""Warnings (预警) and their history (发布 issue · 调整 level change · 解除 lift)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from incidents.models import Event
from vitals import levels
from vitals.models.indicators import Indicator, Level
from vitals.models.sensors import Sensor


class WarningState(models.TextChoices):
    PENDING = levels.PENDING, _("pending")
    FIRING = levels.FIRING, _("firing")
    RESOLVED = levels.RESOLVED, _("resolved")


class WarningKind(models.TextChoices):
    THRESHOLD = levels.THRESHOLD, _("threshold")
    NODATA = levels.NODATA, _("no data (device fault)")


OPEN_WARNING_STATES = (WarningState.PENDING, WarningState.FIRING)


class VitalWarning(models.Model):
    """One warning of one sensor: pending → firing → resolved, in reading time.

    At most one open (pending or firing) warning per sensor and kind. `event` is the work order it
    filed or joined (grouping); `muted` says why it filed none (an inhibition or a silence).
    """

    indicator = models.ForeignKey(
        Indicator, verbose_name=_("indicator"), on_delete=models.PROTECT, related_name="warnings"
    )
    sensor = models.ForeignKey(Sensor, verbose_name=_("sensor"), on_delete=models.PROTECT, related_name="warnings")
    kind = models.CharField(_("kind"), max_length=16, choices=WarningKind.choices, default=WarningKind.THRESHOLD)
    level = models.CharField(_("level"), max_length=8, choices=Level.choices)
    state = models.CharField(_("state"), max_length=8, choices=WarningState.choices)
    started_at = models.DateTimeField(_("started at"))
    fired_at = models.DateTimeField(_("fired at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    peak_value = models.FloatField(_("peak value"), null=True, blank=True)
    last_value = models.FloatField(_("last value"), null=True, blank=True)
    # Copy of the sensor's grid path: scoped lists are one prefix scan.
    area_path = models.CharField(_("area path"), max_length=255, editable=False)
    event = models.ForeignKey(
        Event, verbose_name=_("event"), null=True, blank=True, on_delete=models.PROTECT, related_name="vital_warnings"
    )
    muted = models.CharField(_("muted by"), max_length=120, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("warning")
        verbose_name_plural = _("warnings")
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["area_path"], name="warning_area_path", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["state", "level"], name="warning_state_level"),
            models.Index(fields=["indicator", "state"], name="warning_indicator_state"),
            models.Index(fields=["sensor", "started_at"], name="warning_sensor_started"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["sensor", "kind"],
                condition=Q(state__in=["pending", "firing"]),
                name="warning_one_open_per_sensor_and_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sensor.code} {self.level} {self.state}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_WARNING_STATES


class WarningAction(models.TextChoices):
    ISSUE = "issue", _("issued (发布)")
    CHANGE = "change", _("level changed (调整)")
    LIFT = "lift", _("lifted (解除)")
    FILE = "file", _("filed an event")
    JOIN = "join", _("joined an event")
    MUTE = "mute", _("muted")


class WarningRecord(models.Model):
    """One line of a warning's history. `at` is reading time (wall clock for no-data warnings)."""

    warning = models.ForeignKey(
        VitalWarning, verbose_name=_("warning"), on_delete=models.CASCADE, related_name="records"
    )
    action = models.CharField(_("action"), max_length=8, choices=WarningAction.choices)
    at = models.DateTimeField(_("at"))
    level = models.CharField(_("level"), max_length=8, choices=Level.choices)
    from_level = models.CharField(_("previous level"), max_length=8, choices=Level.choices, blank=True)
    value = models.FloatField(_("value"), null=True, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("warning record")
        verbose_name_plural = _("warning records")
        ordering = ["warning_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.warning_id} {self.action} {self.level}"
