"""Admin for business calendars: working periods (overlaps refused beside the field), days, warnings.

Imported by interfaces.admin.dispatch (which Django autodiscovers). From 1 October the
calendar list warns when next year's holidays are missing, and whenever a
running deadline was computed over days a calendar does not know; the admin
home shows the same warnings (templates/admin/index.html).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from dispatch.calendar import known_through
from dispatch.calendar_health import calendar_gaps, needed_through, unknown_running_deadlines
from dispatch.models import BusinessCalendar, CalendarDay, WorkingPeriod
from dispatch.periods import overlap_message, overlapping_pairs

FLAGGED_RUNNING = "?calendar_unknown__exact=1&stopped_at__isnull=True"


def calendar_warnings(today=None) -> list[str]:
    """HTML-safe warning lines for the admin: calendars missing days they soon need, flagged deadlines."""
    lines = []
    calendars_url = reverse("admin:dispatch_businesscalendar_changelist")
    for gap in calendar_gaps(today):
        lines.append(
            format_html(
                gettext(
                    "Calendar “{name}” knows public holidays and make-up days only through {known}; deadlines "
                    "after that assume Monday–Friday. Enter {year}’s days (<code>python manage.py calendar_import "
                    'FILE</code>, or <a href="{url}">in the admin</a>) before limits run into it.'
                ),
                name=gap.name,
                known=gap.known_through.isoformat(),
                year=gap.known_through.year + 1,
                url=calendars_url,
            )
        )
    unknown = unknown_running_deadlines()
    if unknown:
        lines.append(
            format_html(
                ngettext(
                    "{n} running deadline was computed over days its calendar does not know "
                    '(<a href="{url}">see the clock</a>); after entering the days, run '
                    "<code>python manage.py sla_recompute</code>.",
                    "{n} running deadlines were computed over days their calendar does not know "
                    '(<a href="{url}">see the clocks</a>); after entering the days, run '
                    "<code>python manage.py sla_recompute</code>.",
                    unknown,
                ),
                n=unknown,
                url=reverse("admin:dispatch_slaclock_changelist") + FLAGGED_RUNNING,
            )
        )
    return lines


class WorkingPeriodFormSet(BaseInlineFormSet):
    """Checks the submitted periods against each other: they may all be changing in one save."""

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        # The model's own check compares with the saved rows, which this very form set may be moving.
        form.instance._siblings_checked = True
        return form

    def clean(self) -> None:
        super().clean()
        rows = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or self._should_delete_form(form):
                continue
            weekday, start, end = data.get("weekday"), data.get("start"), data.get("end")
            if weekday is None or start is None or end is None:
                continue
            rows.append((form, (weekday, start, end)))
        for i, j in overlapping_pairs(item for _form, item in rows):
            form, (_wd, start, end) = rows[j][0], rows[i][1]
            if "start" not in form.errors:
                form.add_error("start", overlap_message(start, end))


class WorkingPeriodInline(admin.TabularInline):
    model = WorkingPeriod
    formset = WorkingPeriodFormSet
    extra = 0


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    extra = 1
    ordering = ("-date",)


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    """Working hours and the holiday / make-up day list; years chinese-calendar does not know are entered here."""

    list_display = ("name", "org_unit", "known_through")
    autocomplete_fields = ["org_unit"]
    inlines = [WorkingPeriodInline, CalendarDayInline]

    @admin.display(description=_("holidays known through"))
    def known_through(self, obj: BusinessCalendar) -> str:
        today = timezone.localdate()
        known = known_through((d.year for d in obj.days.dates("date", "year")), today)
        if known < needed_through(today):
            return format_html('<strong class="errornote">⚠ {}</strong>', known.isoformat())
        return known.isoformat()

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET":
            for line in calendar_warnings():
                self.message_user(request, line, messages.WARNING)
        return super().changelist_view(request, extra_context)


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ("date", "is_working", "note", "calendar")
    list_filter = ("calendar", "is_working")
    date_hierarchy = "date"
    search_fields = ("note",)
