"""Indicators (体征指标): a tree of domain → group → indicator, each with its four-level warning rule."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from incidents.models import Category
from vitals import levels
from vitals.rules import Rule, rule_problems


class Level(models.TextChoices):
    """蓝 IV · 黄 III · 橙 II · 红 I (the Emergency Response Law's four levels), least severe first."""

    BLUE = levels.BLUE, _("blue (IV)")
    YELLOW = levels.YELLOW, _("yellow (III)")
    ORANGE = levels.ORANGE, _("orange (II)")
    RED = levels.RED, _("red (I)")


class Direction(models.TextChoices):
    ABOVE = levels.ABOVE, _("warn above the thresholds")
    BELOW = levels.BELOW, _("warn below the thresholds")


class Indicator(models.Model):
    """A vital sign (e.g. 城市生命线 → 排水 → 路面积水深度) and its rule.

    `thresholds` maps levels to values ({"blue": 5, "yellow": 10, "orange": 20, "red": 30}; any level may be
    omitted). `for_minutes` is how long, in reading time, the condition must hold before the warning
    fires; `recovery` the value a firing warning must get back past (hysteresis; empty = the least
    severe threshold); `event_level` the lowest level that files an event.
    """

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=64)
    domain = models.CharField(_("domain"), max_length=32, help_text=_("e.g. 城市生命线"))
    group = models.CharField(_("indicator group"), max_length=32, blank=True, help_text=_("e.g. 排水"))
    unit = models.CharField(_("unit"), max_length=16, blank=True)
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices, default=Direction.ABOVE)
    thresholds = models.JSONField(_("thresholds"), default=dict)
    for_minutes = models.PositiveIntegerField(_("for (minutes)"), default=0)
    recovery = models.FloatField(_("recovery value"), null=True, blank=True)
    nodata_minutes = models.PositiveIntegerField(_("no-data limit (minutes)"), null=True, blank=True)
    category = models.ForeignKey(
        Category,
        verbose_name=_("event category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The category of the event a warning files; empty: warnings only, no event."),
    )
    event_level = models.CharField(_("event level"), max_length=8, choices=Level.choices, default=Level.YELLOW)
    group_minutes = models.PositiveIntegerField(
        _("grouping window (minutes)"),
        default=60,
        help_text=_("Warnings of this indicator in one grid whose firing times lie this close join one event."),
    )
    source_note = models.CharField(_("source of the thresholds"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["domain", "group", "code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        problems = rule_problems(self.direction, self.thresholds, self.for_minutes, self.recovery)
        if problems:
            raise ValidationError(problems)

    def rule(self) -> Rule:
        return Rule.build(self.direction, self.thresholds, self.for_minutes, self.recovery)

    @property
    def effective_recovery(self) -> float:
        return self.rule().recovery
