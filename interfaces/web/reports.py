"""The SLA report as a web page, CSV and XLSX (and, in interfaces.api.dispatch, JSON)."""

from __future__ import annotations

import csv
import io

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from dispatch.reports import Report, Row, sla_report
from interfaces.report_inputs import ReportForm

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
