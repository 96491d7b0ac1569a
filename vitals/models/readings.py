"""Readings and their hourly roll-up.

On PostgreSQL `vitals_reading` is partitioned by range of `at` (one partition a day, created ahead and
dropped past retention by vitals.partitions); the primary key (sensor, at) is also the rule that a
repeated (sensor, at) is one reading. SQLite gets a plain table with the same key.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from vitals.models.sensors import Sensor


class Reading(models.Model):
    pk = models.CompositePrimaryKey("sensor_id", "at")
    # No database foreign key (every ingested row would pay the check; the service resolves sensors first)
    # and no index of its own (the primary key starts with it).
    sensor = models.ForeignKey(
        Sensor, verbose_name=_("sensor"), on_delete=models.PROTECT, db_constraint=False, db_index=False
    )
    at = models.DateTimeField(_("at"))
    value = models.FloatField(_("value"))

    class Meta:
        verbose_name = _("reading")
        verbose_name_plural = _("readings")

    def __str__(self) -> str:
        return f"{self.sensor_id} {self.at.isoformat()} {self.value:g}"


class ReadingHourly(models.Model):
    """The hourly downsample (降采样) of one sensor: kept after the raw partitions are dropped."""

    pk = models.CompositePrimaryKey("sensor_id", "hour")
    sensor = models.ForeignKey(Sensor, verbose_name=_("sensor"), on_delete=models.CASCADE)
    hour = models.DateTimeField(_("hour"))
    count = models.PositiveIntegerField(_("readings"))
    minimum = models.FloatField(_("minimum"))
    maximum = models.FloatField(_("maximum"))
    mean = models.FloatField(_("mean"))

    class Meta:
        verbose_name = _("hourly reading")
        verbose_name_plural = _("hourly readings")
        indexes = [models.Index(fields=["hour"], name="readinghourly_hour")]

    def __str__(self) -> str:
        return f"{self.sensor_id} {self.hour.isoformat()} n={self.count}"
