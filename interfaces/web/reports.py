"""The evaluation report as a web page, CSV and XLSX (and, in interfaces.api.dispatch, JSON).

Page and exports show the same sections, columns and definitions; rates are percentages.
"""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from core.replica import replication_lag, report_reads
from dispatch.reports import DEFINITIONS, Report, Row, sla_report
from interfaces.report_inputs import ReportForm

L = gettext_lazy
CITY_COLUMNS = [
    ("label", L("name")),
    ("received", L("受理数 received")),
    ("cases", L("立案数 cases")),
    ("dispatched", L("dispatched")),
    ("should_close", L("应结案数 should close")),
    ("closed", L("结案数 closed")),
    ("closed_on_time", L("按期结案数 closed on time")),
    ("overdue_open", L("超期未结案数 open, overdue")),
    ("closure_rate", L("结案率 closure rate")),
    ("on_time_rate", L("按期结案率 on-time closure rate")),
    ("reworked", L("返工数 reworked")),
    ("rework_rate", L("返工率 rework rate")),
    ("overdue_now", L("red light now")),
    ("mean_handling_hours", L("mean handling (working h)")),
    ("p90_handling_hours", L("p90 handling (working h)")),
    ("returns", L("退回数 returns")),
    ("extensions", L("延期数 extensions")),
    ("suspensions", L("挂起数 suspensions")),
    ("urges", L("督办数 urges")),
]
DEPARTMENT_COLUMNS = [
    ("label", L("name")),
    ("received", L("received (events dispatched to it)")),
    ("dispatched", L("dispatches received")),
    ("accepts", L("签收数 accepted")),
    ("should_close", L("应处置数 should handle")),
    ("closed", L("处置数 handled")),
    ("closed_on_time", L("按期处置数 handled on time")),
    ("closure_rate", L("处置率 handling rate")),
    ("on_time_rate", L("按期处置率 on-time handling rate")),
    ("overdue_open", L("超期未处置数 open, overdue")),
    ("reworked", L("返工数 reworked")),
    ("rework_rate", L("返工率 rework rate")),
    ("returns", L("退回数 returns")),
    ("extensions", L("延期数 extensions")),
    ("suspensions", L("挂起数 suspensions")),
    ("urges", L("督办数 urges")),
    ("co_handled", L("协办数 co-handled")),
    ("mean_handling_hours", L("mean handling (working h)")),
    ("p90_handling_hours", L("p90 handling (working h)")),
]
DISPATCHER_COLUMNS = [
    ("label", L("name")),
    ("dispatches", L("派遣数 dispatches")),
    ("timed_dispatches", L("timed dispatches")),
    ("on_time_dispatches", L("on time")),
    ("on_time_dispatch_rate", L("按时派遣率 on-time dispatch rate")),
    ("wrong_dispatches", L("错派数 returned")),
    ("accurate_dispatch_rate", L("准确派遣率 accurate dispatch rate")),
]
WORKER_COLUMNS = [
    ("label", L("name")),
    ("reports", L("上报数 reports")),
    ("valid_reports", L("有效上报数 valid reports")),
    ("valid_report_rate", L("有效上报率 valid report rate")),
    ("verifications", L("核查数 checks")),
    ("timed_verifications", L("timed checks")),
    ("on_time_verifications", L("on time")),
    ("on_time_verification_rate", L("按时核查率 on-time check rate")),
]


def _build(request: HttpRequest) -> tuple[ReportForm, Report | None]:
    form = ReportForm(request.user, request.GET.dict())
    if not form.fields["unit"].queryset.exists():
        raise Http404("No report for you here.")
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    with report_reads():
        return form, sla_report(request.user, unit=data["unit"], start=data["start"], end=data["end"])


def _is_rate(name: str) -> bool:
    return name.endswith("_rate")


def _cell(row: Any, name: str) -> Any:
    """The raw value, hours rounded (rates are formatted by each channel)."""
    value = getattr(row, name)
    return round(value, 4) if isinstance(value, float) else value


def _text(row: Any, name: str) -> str:
    """A cell as the page and the CSV print it: rates as percentages with two decimals."""
    value = getattr(row, name)
    if value is None:
        return "—"
    if _is_rate(name):
        return f"{value * 100:.2f}%"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _filename(report: Report, ext: str) -> str:
    return f"sla-{report.unit.code}-{report.start:%Y%m%d}-{report.end:%Y%m%d}.{ext}"


def _sections(report: Report) -> list[tuple[str, list[tuple[str, Any]], list[Any]]]:
    return [
        (_("Total"), CITY_COLUMNS, [report.total]),
        (_("By department"), DEPARTMENT_COLUMNS, report.by_department),
        (_("By region"), CITY_COLUMNS, report.by_region),
        (_("By dispatcher"), DISPATCHER_COLUMNS, report.by_dispatcher),
        (_("By grid worker"), WORKER_COLUMNS, report.by_grid_worker),
    ]


def _title_block(report: Report) -> list[list[str]]:
    """Area, period, generated at, then each definition: the first lines of every export."""
    generated = timezone.localtime(report.generated_at or timezone.now())
    return [
        [_("area"), f"{report.unit.name} ({report.unit.code})"],
        [_("period"), f"{report.start:%Y-%m-%d} – {report.end:%Y-%m-%d}"],
        [_("generated at"), f"{generated:%Y-%m-%d %H:%M}"],
        *[[str(name), str(formula)] for name, formula in DEFINITIONS],
    ]


def light_chart_data(rows: list[Row]) -> dict[str, Any]:
    """The traffic-light distribution of open events per region (ECharts stacked bars, static/js/report-charts.js)."""
    return {
        "labels": [row.label for row in rows],
        "green": [row.open_green for row in rows],
        "yellow": [row.open_yellow for row in rows],
        "red": [row.open_red for row in rows],
        "names": {"green": _("green"), "yellow": _("yellow"), "red": _("red")},
    }


def replica_status() -> dict[str, Any]:
    """What the page says about where it read from: no replica, or the replica's lag in seconds."""
    lag = replication_lag()
    return {"configured": lag is not None, "lag_seconds": None if lag is None else round(lag.total_seconds(), 1)}


@login_required
def sla_report_page(request: HttpRequest) -> HttpResponse:
    form, report = _build(request)
    tables = (
        [
            (section, [label for _n, label in columns], [[_text(row, n) for n, _l in columns] for row in rows])
            for section, columns, rows in _sections(report)
        ]
        if report
        else []
    )
    return render(
        request,
        "dispatch/sla_report.html",
        {
            "form": form,
            "report": report,
            "tables": tables,
            "definitions": DEFINITIONS,
            "lights": light_chart_data(report.by_region) if report else {},
            "trend_url": (
                f"{reverse('report-trend-json')}?{urlencode({'unit': report.unit.code, 'year': report.start.year})}"
                if report
                else ""
            ),
            "replica": replica_status(),
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
    writer.writerows(_title_block(report))
    for section, columns, rows in _sections(report):
        writer.writerow([])
        writer.writerow([_("section"), *[str(label) for _name, label in columns]])
        for row in rows:
            writer.writerow(
                [section, *[_text(row, name) if _is_rate(name) else _cell(row, name) for name, _l in columns]]
            )
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
    title = _title_block(report)
    for section, columns, rows in _sections(report):
        sheet = book.create_sheet(str(section)[:31])
        for line in title[:3]:  # area, period, generated at; the definitions have their own sheet
            sheet.append(line)
        sheet.append([])
        sheet.append([str(label) for _name, label in columns])
        for row in rows:
            sheet.append([_cell(row, name) for name, _label in columns])
            for index, (name, _label) in enumerate(columns, start=1):
                if _is_rate(name):
                    sheet.cell(row=sheet.max_row, column=index).number_format = "0.00%"
    definitions = book.create_sheet(_("Definitions")[:31])
    for line in title:
        definitions.append(line)
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, "xlsx")}"'
    return response
