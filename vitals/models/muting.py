"""Muting, after Alertmanager: inhibitions (a wide warning mutes the device warnings under it) and
time-bounded silences (maintenance). A muted warning is still recorded; it files no event."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import OrgUnit, Tier
from vitals.models.indicators import Indicator, Level
from vitals.models.sensors import Sensor


class Inhibition(models.Model):
    """While a warning of `source` at `source_level` or above fires, warnings of `target` (or of every
    other indicator) on sensors in the same unit of `scope_tier` (e.g. the same district) file nothing."""

    name = models.CharField(_("name"), max_length=100)
    source = models.ForeignKey(
        Indicator, verbose_name=_("inhibiting indicator"), on_delete=models.CASCADE, related_name="inhibitions"
    )
    source_level = models.CharField(_("from level"), max_length=8, choices=Level.choices, default=Level.YELLOW)
    target = models.ForeignKey(
        Indicator,
        verbose_name=_("muted indicator"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="inhibited_by",
        help_text=_("Empty: every other indicator."),
    )
    scope_tier = models.PositiveSmallIntegerField(
        _("within the same"), choices=[(t.value, t.label) for t in Tier if t != Tier.GRID], default=Tier.DISTRICT
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("inhibition")
        verbose_name_plural = _("inhibitions")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.target_id is not None and self.target_id == self.source_id:
            raise ValidationError({"target": _("An indicator cannot inhibit itself.")})


class Silence(models.Model):
    """No event from warnings that fire (in reading time) between `starts_at` and `ends_at`, for the
    sensors matched: one sensor, an indicator, a unit's area, or combinations (all given must match)."""

    reason = models.CharField(_("reason"), max_length=200)
    indicator = models.ForeignKey(
        Indicator, verbose_name=_("indicator"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    sensor = models.ForeignKey(
        Sensor, verbose_name=_("sensor"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    area = models.ForeignKey(
        OrgUnit, verbose_name=_("area"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("silence")
        verbose_name_plural = _("silences")
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["ends_at"], name="silence_ends_at")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="silence_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return self.reason

    def clean(self) -> None:
        if self.indicator_id is None and self.sensor_id is None and self.area_id is None:
            raise ValidationError(_("Name a sensor, an indicator or an area to silence."))
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("A silence ends after it starts.")})
