"""The ranking (综合评价) as a page, CSV and XLSX, and the monthly trend's chart data as JSON.

Page and exports show the same columns, the score's formula with the weights in force and the
standard definitions; rates are percentages. Reads run on the read replica when there is one.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from core.replica import report_reads
from dispatch.ranking import Board, Ranking, ranking
from dispatch.reports import DEFINITIONS, monthly_trend
from dispatch.scores import Indicator, Placing, ScoreTarget
from interfaces.report_inputs import RankingForm, TrendForm

INDICATOR_COLUMNS = [
    (Indicator.ON_TIME_RATE.value, gettext_lazy("按期结案率 on-time rate")),
    (Indicator.CLOSURE_RATE.value, gettext_lazy("结案率 closure rate")),
    (Indicator.REWORK_RATE.value, gettext_lazy("返工率 rework rate")),
    (Indicator.RETURN_RATE.value, gettext_lazy("退回率 return rate")),
]
BOARD_TITLES = {ScoreTarget.DEPARTMENT: gettext_lazy("Departments"), ScoreTarget.REGION: gettext_lazy("Regions")}


def _headers() -> list[str]:
    return [
        _("rank"),
        _("name"),
        _("score"),
        _("vs last period"),
        _("previous rank"),
        _("previous score"),
        *[str(label) for _name, label in INDICATOR_COLUMNS],
    ]


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


def _number(value: float | int | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def _arrow(p: Placing) -> str:
    """↑ ↓ →; "new" for a row ranked now but not in the previous period; "—" for a row without a rank."""
    if p.rank is None:
        return "—"
    return p.arrow or _("new")


def _text_cells(p: Placing) -> list[str]:
    """A placing as the page and the CSV print it."""
    return [
        _number(p.rank),
        p.label,
        _number(p.score),
        _arrow(p),
        _number(p.previous_rank),
        _number(p.previous_score),
        *[_percent(p.values.get(name)) for name, _label in INDICATOR_COLUMNS],
    ]


def _boards(result: Ranking) -> list[tuple[str, Board]]:
    return [(str(BOARD_TITLES[b.target]), b) for b in (result.departments, result.regions)]


def _title_block(result: Ranking) -> list[list[str]]:
    """Area, period, the period compared with, generated at, the formulas, the definitions."""
    generated = timezone.localtime(result.generated_at)
    lines = [
        [_("area"), f"{result.unit.name} ({result.unit.code})"],
        [_("period"), f"{result.label}: {result.start:%Y-%m-%d} – {result.end:%Y-%m-%d}"],
        [
            _("compared with"),
            f"{result.previous_label}: {result.previous_start:%Y-%m-%d} – {result.previous_end:%Y-%m-%d}",
        ],
        [_("generated at"), f"{generated:%Y-%m-%d %H:%M}"],
    ]
    for title, board in _boards(result):
        lines.append([_("score of %(board)s") % {"board": title}, board.formula])
    lines.append(
        [
            _("score"),
            _(
                "100 × Σ weight × value ÷ Σ weight over the indicators the row has (返工率 and 退回率 enter as "
                "1 − rate); 退回率 = 退回数 ÷ dispatches received; rank 1 is the highest score, equal scores "
                "share a rank; ↑ better rank than the previous period, ↓ worse, → the same"
            ),
        ]
    )
    lines.extend([str(name), str(formula)] for name, formula in DEFINITIONS)
    return lines


def _build(request: HttpRequest) -> tuple[RankingForm, Ranking | None]:
    form = RankingForm(request.user, request.GET.dict())
    if not form.fields["unit"].queryset.exists():
        raise Http404("No ranking for you here.")
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    with report_reads():
        return form, ranking(request.user, unit=data["unit"], period=data["period"], on=data["date"])


def _filename(result: Ranking, ext: str) -> str:
    return f"ranking-{result.unit.code}-{result.period}-{result.start:%Y%m%d}.{ext}"


def chart_data(result: Ranking) -> dict[str, Any]:
    """What the ranking bar charts draw: per board, names and scores, best first."""
    return {
        board.target: {
            "title": title,
            "labels": [p.label for p in board.placings if p.score is not None],
            "scores": [p.score for p in board.placings if p.score is not None],
        }
        for title, board in _boards(result)
    }


@login_required
def ranking_page(request: HttpRequest) -> HttpResponse:
    form, result = _build(request)
    boards = (
        [(title, board, [_text_cells(p) for p in board.placings]) for title, board in _boards(result)] if result else []
    )
    return render(
        request,
        "dispatch/ranking.html",
        {
            "form": form,
            "ranking": result,
            "boards": boards,
            "headers": _headers(),
            "title_block": _title_block(result) if result else [],
            "chart": chart_data(result) if result else {},
        },
    )


@login_required
def ranking_csv(request: HttpRequest) -> HttpResponse:
    form, result = _build(request)
    if result is None:
        return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain; charset=utf-8")
    out = io.StringIO()
    out.write("\ufeff")  # BOM: spreadsheet programs then read the Chinese text correctly
    writer = csv.writer(out)
    writer.writerows(_title_block(result))
    for title, board in _boards(result):
        writer.writerow([])
        writer.writerow([_("section"), *_headers()])
        for placing in board.placings:
            writer.writerow([title, *_text_cells(placing)])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(result, "csv")}"'
    return response


@login_required
def ranking_xlsx(request: HttpRequest) -> HttpResponse:
    form, result = _build(request)
    if result is None:
        return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain; charset=utf-8")
    book = Workbook()
    book.remove(book.active)
    title_block = _title_block(result)
    first_rate = 7  # columns 7.. hold the indicator rates
    for title, board in _boards(result):
        sheet = book.create_sheet(title[:31])
        for line in title_block[:4]:  # area, period, compared with, generated at
            sheet.append(line)
        sheet.append([_("score"), board.formula])
        sheet.append([])
        sheet.append(_headers())
        for p in board.placings:
            sheet.append(
                [
                    p.rank,
                    p.label,
                    p.score,
                    _arrow(p),
                    p.previous_rank,
                    p.previous_score,
                    *[p.values.get(name) for name, _label in INDICATOR_COLUMNS],
                ]
            )
            for column in range(first_rate, first_rate + len(INDICATOR_COLUMNS)):
                sheet.cell(row=sheet.max_row, column=column).number_format = "0.00%"
            for column in (3, 6):
                sheet.cell(row=sheet.max_row, column=column).number_format = "0.00"
    definitions = book.create_sheet(_("Definitions")[:31])
    for line in title_block:
        definitions.append(line)
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(result, "xlsx")}"'
    return response


@login_required
def trend_json(request: HttpRequest) -> JsonResponse:
    """The monthly trend lines' data (结案率, 按期结案率, 返工率) of an area for a year."""
    form = TrendForm(request.user, request.GET.dict())
    if not form.fields["unit"].queryset.exists():
        raise Http404("No report for you here.")
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    unit, year = form.cleaned_data["unit"], form.cleaned_data["year"]
    with report_reads():
        months = monthly_trend(request.user, unit=unit, year=year)
    return JsonResponse(
        {
            "unit": unit.code,
            "year": year,
            "labels": [f"{year}-{month:02d}" for month, _row in months],
            "series": {
                name: [None if (v := getattr(row, name)) is None else round(v * 100, 2) for _m, row in months]
                for name in ("closure_rate", "on_time_rate", "rework_rate")
            },
            "should_close": [row.should_close for _m, row in months],
            "names": {
                "closure_rate": _("结案率 closure rate"),
                "on_time_rate": _("按期结案率 on-time closure rate"),
                "rework_rate": _("返工率 rework rate"),
            },
        }
    )
