"""Daily roll-ups of the evaluation report (日汇总): the figures of each report day and grid.

One row per (report day, area path of the grid, kind, key): kind `area` holds the city-level
figures of the events reported there that day (key ""), `department`, `dispatcher` and `worker`
rows the attributed ones (key: department code, dispatcher unit code, grid worker id). The area
path is the finest unit a report groups by, so any district / street / community / grid prefix
sums. `RollupDay` says when a day was built; a `RollupMark` says a day changed since (written in
the same transaction as the change), so the report reads that day live until it is rebuilt.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RollupKind(models.TextChoices):
    AREA = "area", _("area")
    DEPARTMENT = "department", _("department")
    DISPATCHER = "dispatcher", _("dispatcher")
    WORKER = "worker", _("grid worker")


class RollupFigures(models.Model):
    """The summable figures of a roll-up row (see dispatch.figures: Row, DispatcherRow, GridWorkerRow)."""

    area_path = models.CharField(_("area path"), max_length=255)
    kind = models.CharField(_("kind"), max_length=12, choices=RollupKind.choices)
    key = models.CharField(_("key"), max_length=64, blank=True, default="")
    # Row figures (areas and departments)
    received = models.IntegerField(default=0)
    dispatched = models.IntegerField(default=0)
    cases = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    closed_on_time = models.IntegerField(default=0)
    overdue_open = models.IntegerField(default=0)
    reworked = models.IntegerField(default=0)
    reworked_due = models.IntegerField(default=0)
    overdue_now = models.IntegerField(default=0)
    returns = models.IntegerField(default=0)
    extensions = models.IntegerField(default=0)
    suspensions = models.IntegerField(default=0)
    urges = models.IntegerField(default=0)
    accepts = models.IntegerField(default=0)
    co_handled = models.IntegerField(default=0)
    open_green = models.IntegerField(default=0)
    open_yellow = models.IntegerField(default=0)
    open_red = models.IntegerField(default=0)
    handling_count = models.IntegerField(default=0)
    handling_seconds = models.BigIntegerField(default=0)
    # Handling-time histogram, bucket i of dispatch.figures.HISTOGRAM_EDGES (h11: above the last edge)
    h00 = models.IntegerField(default=0)
    h01 = models.IntegerField(default=0)
    h02 = models.IntegerField(default=0)
    h03 = models.IntegerField(default=0)
    h04 = models.IntegerField(default=0)
    h05 = models.IntegerField(default=0)
    h06 = models.IntegerField(default=0)
    h07 = models.IntegerField(default=0)
    h08 = models.IntegerField(default=0)
    h09 = models.IntegerField(default=0)
    h10 = models.IntegerField(default=0)
    h11 = models.IntegerField(default=0)
    # Dispatcher figures
    dispatches = models.IntegerField(default=0)
    timed_dispatches = models.IntegerField(default=0)
    on_time_dispatches = models.IntegerField(default=0)
    wrong_dispatches = models.IntegerField(default=0)
    # Grid worker figures
    reports = models.IntegerField(default=0)
    valid_reports = models.IntegerField(default=0)
    verifications = models.IntegerField(default=0)
    timed_verifications = models.IntegerField(default=0)
    on_time_verifications = models.IntegerField(default=0)
    # Days on which the row's key was present: 1 for a daily row, the count of its daily rows for a
    # monthly one. A key is shown when any event touched it, even with all figures zero
    # (dispatch.figures.Figures), so "month minus its days outside the period" keeps a key only if
    # some day inside still had it (dispatch.rollups.summed).
    days_present = models.IntegerField(_("days present"), default=1)

    class Meta:
        abstract = True


class DailyRollup(RollupFigures):
    day = models.DateField(_("report day"))

    class Meta:
        verbose_name = _("daily roll-up")
        verbose_name_plural = _("daily roll-ups")
        constraints = [
            models.UniqueConstraint(fields=["day", "area_path", "kind", "key"], name="dailyrollup_day_area_kind_key")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.area_path} {self.kind} {self.key}"


class MonthlyRollup(RollupFigures):
    """The sum of a month's daily rows, per (area path, kind, key): what a year's report reads.
    Used for a month only when every day of it is clean and the month was summed after them."""

    month = models.DateField(_("month (its first day)"))

    class Meta:
        verbose_name = _("monthly roll-up")
        verbose_name_plural = _("monthly roll-ups")
        constraints = [
            models.UniqueConstraint(
                fields=["month", "area_path", "kind", "key"], name="monthlyrollup_month_area_kind_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.area_path} {self.kind} {self.key}"


class RollupMonth(models.Model):
    month = models.DateField(_("month (its first day)"), primary_key=True)
    built_at = models.DateTimeField(_("built at"))

    class Meta:
        verbose_name = _("summed month")
        verbose_name_plural = _("summed months")

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} @ {self.built_at:%Y-%m-%d %H:%M:%S}"


class RollupDay(models.Model):
    day = models.DateField(_("report day"), primary_key=True)
    built_at = models.DateTimeField(_("built at"))

    class Meta:
        verbose_name = _("rolled-up day")
        verbose_name_plural = _("rolled-up days")

    def __str__(self) -> str:
        return f"{self.day} @ {self.built_at:%Y-%m-%d %H:%M:%S}"


class RollupMark(models.Model):
    """A report day whose events changed after its roll-up was built (a dirty day)."""

    day = models.DateField(_("report day"), db_index=True)

    class Meta:
        verbose_name = _("changed report day")
        verbose_name_plural = _("changed report days")

    def __str__(self) -> str:
        return str(self.day)
