"""The SLA report as a web page, CSV and XLSX (and, in interfaces.api.dispatch, JSON)."""

from __future__ import annotations

import csv
import io

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from accounts.models import OrgUnit, Tier, User
from accounts.selectors import units_granting
from dispatch.reports import Report, Row, sla_report
from interfaces.inputs import MAX_DAY, MIN_DAY

COLUMNS = [
    ("label", gettext_lazy("name")),
    ("received", gettext_lazy("received")),
    ("dispatched", gettext_lazy("dispatched")),
    ("should_close", gettext_lazy("should close")),
    ("closed", gettext_lazy("closed")),
    ("closure_rate", gettext_lazy("closure rate")),
    ("on_time_rate", gettext_lazy("on-time closure rate")),
    ("rework_rate", gettext_lazy("rework rate")),
    ("overdue_now", gettext_lazy("overdue now")),
    ("mean_handling_hours", gettext_lazy("mean handling (working h)")),
    ("p90_handling_hours", gettext_lazy("p90 handling (working h)")),
    ("returns", gettext_lazy("returns")),
    ("extensions", gettext_lazy("extensions")),
    ("suspensions", gettext_lazy("suspensions")),
]


def report_units(user: User):
    """Units whose report the user may read: the units where they may read events (a community or
    a grid included), and inside those everything down to streets."""
    roots = units_granting(user, "view_events")
    if user.is_superuser:
        roots = list(OrgUnit.objects.filter(tier=Tier.CITY))
    if not roots:
        return OrgUnit.objects.none()
    q = Q()
    for root in roots:
        q |= Q(path__startswith=root.path)
    return OrgUnit.objects.filter(q & (Q(tier__lte=Tier.STREET) | Q(pk__in=[r.pk for r in roots]))).order_by("path")


class ReportForm(forms.Form):
    unit = forms.ModelChoiceField(label=gettext_lazy("area"), queryset=OrgUnit.objects.none(), to_field_name="code")
    # ISO dates: what <input type="date"> needs, whatever the locale's display format.
    start = forms.DateField(
        label=gettext_lazy("from"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    end = forms.DateField(label=gettext_lazy("to"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))

    def __init__(self, user: User, data=None):
        today = timezone.localdate()
        units = report_units(user)
        initial = {"unit": units.first(), "start": today.replace(day=1), "end": today}
        bound = {**{k: (v.code if isinstance(v, OrgUnit) else v) for k, v in initial.items() if v}, **(data or {})}
        super().__init__(bound)
        self.fields["unit"].queryset = units

    def clean(self):
        data = super().clean()

        for name in ("start", "end"):
            if data.get(name) and not (MIN_DAY <= data[name] <= MAX_DAY):
                self.add_error(name, _("Between %(a)s and %(b)s.") % {"a": MIN_DAY, "b": MAX_DAY})
                data.pop(name, None)
        if data.get("start") and data.get("end"):
            if data["end"] < data["start"]:
                self.add_error("end", _("The end is before the start."))
            elif (data["end"] - data["start"]).days > 366 * 3:
                self.add_error("end", _("At most three years at a time."))
        return data


def _build(request: HttpRequest) -> tuple[ReportForm, Report | None]:
    form = ReportForm(request.user, request.GET.dict())
    if not form.fields["unit"].queryset.exists():
        raise Http404("No report for you here.")
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    return form, sla_report(request.user, unit=data["unit"], start=data["start"], end=data["end"])


def _cell(row: Row, name: str):
    value = getattr(row, name)
    return round(value, 4) if isinstance(value, float) else value


def _filename(report: Report, ext: str) -> str:
    return f"sla-{report.unit.code}-{report.start:%Y%m%d}-{report.end:%Y%m%d}.{ext}"


def _sections(report: Report):
    return [
        (_("Total"), [report.total]),
        (_("By department"), report.by_department),
        (_("By region"), report.by_region),
    ]


def _light_chart(rows: list[Row]) -> list[dict]:
    """Stacked green/yellow/red bars as SVG geometry (percent of the largest row): no inline CSS, CSP-clean."""
    scale = max((r.open_green + r.open_yellow + r.open_red for r in rows), default=0) or 1
    bars = []
    for row in rows:
        x, segments = 0.0, []
        for light, count in (("green", row.open_green), ("yellow", row.open_yellow), ("red", row.open_red)):
            width = 100 * count / scale
            if count:
                segments.append(
                    {
                        "light": light,
                        "count": count,
                        "x": round(x, 2),
                        "width": round(width, 2),
                        "mid": round(x + width / 2, 2),
                    }
                )
            x += width
        bars.append(
            {"label": row.label, "total": row.open_green + row.open_yellow + row.open_red, "segments": segments}
        )
    return bars


@login_required
def sla_report_page(request: HttpRequest) -> HttpResponse:
    form, report = _build(request)
    chart = _light_chart(report.by_region) if report else []
    return render(
        request,
        "dispatch/sla_report.html",
        {
            "form": form,
            "report": report,
            "columns": COLUMNS,
            "sections": _sections(report) if report else [],
            "chart": chart,
        },
    )


@login_required
def sla_report_csv(request: HttpRequest) -> HttpResponse:
    form, report = _build(request)
    if report is None:
        return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain; charset=utf-8")
    out = io.StringIO()
    out.write("\ufeff")  # BOM: spreadsheet programs then read the Chinese text correctly
    writer = csv.writer(out)
    writer.writerow([_("section"), *[str(label) for _name, label in COLUMNS]])
    for section, rows in _sections(report):
        for row in rows:
            writer.writerow([section, *[_cell(row, name) for name, _label in COLUMNS]])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, "csv")}"'
    return response


@login_required
def sla_report_xlsx(request: HttpRequest) -> HttpResponse:
    form, report = _build(request)
    if report is None:
        return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain; charset=utf-8")
    book = Workbook()
    book.remove(book.active)
    for section, rows in _sections(report):
        sheet = book.create_sheet(str(section)[:31])
        sheet.append([str(label) for _name, label in COLUMNS])
        for row in rows:
            sheet.append([_cell(row, name) for name, _label in COLUMNS])
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, "xlsx")}"'
    return response
