"""Business calendars: weekly working periods and the dates that differ (holidays, 调休 make-up days)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dispatch.periods import overlap_message


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
