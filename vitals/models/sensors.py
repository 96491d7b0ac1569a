"""Sensors (感知设备): where an indicator is measured, placed in their grid by the spatial index."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.grid_index import locate_grid_id
from accounts.models import Department, OrgUnit
from vitals.models.indicators import Indicator


class Sensor(models.Model):
    """A device (or a virtual sensor fed by a job) reporting readings of one indicator.

    `area_path` copies the grid's path so "sensors in my jurisdiction" is one prefix scan, like events.
    `last_at` is the reading time of the last evaluated reading (the evaluator's clock); `last_seen_at`
    the wall-clock time a reading last arrived (the NoData sweep's).
    """

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=100)
    indicator = models.ForeignKey(
        Indicator, verbose_name=_("indicator"), on_delete=models.PROTECT, related_name="sensors"
    )
    latitude = models.FloatField(_("latitude"))
    longitude = models.FloatField(_("longitude"))
    # Found from the point (place()), never entered.
    grid = models.ForeignKey(
        OrgUnit, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="sensors", editable=False
    )
    area_path = models.CharField(_("area path"), max_length=255, editable=False)
    owner_department = models.ForeignKey(
        Department,
        verbose_name=_("owner department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sensors",
        help_text=_("Told of device faults (no data)."),
    )
    is_virtual = models.BooleanField(_("virtual"), default=False, help_text=_("Fed by a job, not a device."))
    is_active = models.BooleanField(_("active"), default=True)
    last_at = models.DateTimeField(_("last reading at"), null=True, blank=True, editable=False)
    last_value = models.FloatField(_("last value"), null=True, blank=True, editable=False)
    last_seen_at = models.DateTimeField(_("last heard from"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("sensor")
        verbose_name_plural = _("sensors")
        ordering = ["code"]
        indexes = [
            models.Index(fields=["area_path"], name="sensor_area_path", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["indicator", "grid"], name="sensor_indicator_grid"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="sensor_coordinates_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def save(self, *args, **kwargs) -> None:
        if not self.grid_id or not self.area_path:
            self.place()
        super().save(*args, **kwargs)

    def place(self) -> None:
        """Put the sensor in the grid covering its point (the spatial index); outside every grid is an error."""
        grid_id = locate_grid_id(self.latitude, self.longitude)
        if grid_id is None:
            raise ValidationError(
                {
                    "latitude": _("(%(lat).6f, %(lon).6f) lies outside every grid of the city.")
                    % {"lat": self.latitude, "lon": self.longitude}
                }
            )
        if grid_id != self.grid_id:
            self.grid = OrgUnit.objects.get(pk=grid_id)
        self.area_path = self.grid.path

    def clean(self) -> None:
        if self.latitude is None or self.longitude is None:
            return
        if not (-90 <= self.latitude <= 90 and -180 <= self.longitude <= 180):
            raise ValidationError({"latitude": _("Coordinates out of range.")})
        self.place()
