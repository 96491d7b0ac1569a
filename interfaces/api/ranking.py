"""The ranking (综合评价) and the monthly trend as JSON: `GET /api/v1/reports/ranking`, `/reports/trend`."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.replica import report_reads
from dispatch.ranking import Board, ranking
from dispatch.reports import DEFINITIONS, monthly_trend
from dispatch.scores import Indicator, PeriodKind, Placing
from interfaces.api.dispatch import DefinitionOutput, ReportRowOutput
from interfaces.report_inputs import RankingForm, TrendForm


class WeightOutput(serializers.Serializer):
    indicator = serializers.ChoiceField(choices=Indicator.choices)
    weight = serializers.FloatField()


class PlacingOutput(serializers.Serializer):
    key = serializers.CharField(help_text="Department code, or org unit code for a region")
    label = serializers.CharField()
    rank = serializers.IntegerField(allow_null=True, help_text="1 = best; equal scores share a rank; null: no score")
    score = serializers.FloatField(allow_null=True, help_text="0–100, see the board's formula")
    arrow = serializers.CharField(help_text="↑ better rank than the previous period, ↓ worse, → same, '' new")
    previous_rank = serializers.IntegerField(allow_null=True)
    previous_score = serializers.FloatField(allow_null=True)
    closure_rate = serializers.FloatField(allow_null=True)
    on_time_rate = serializers.FloatField(allow_null=True)
    rework_rate = serializers.FloatField(allow_null=True)
    return_rate = serializers.FloatField(allow_null=True)


class BoardOutput(serializers.Serializer):
    weights = WeightOutput(many=True)
    formula = serializers.CharField()
    rows = PlacingOutput(many=True)


class PeriodOutput(serializers.Serializer):
    label = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()


class RankingOutput(serializers.Serializer):
    unit = serializers.CharField()
    period = serializers.ChoiceField(choices=PeriodKind.choices)
    label = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    previous = PeriodOutput()
    generated_at = serializers.DateTimeField()
    departments = BoardOutput()
    regions = BoardOutput()
    definitions = DefinitionOutput(many=True)


def _placing(p: Placing) -> dict[str, object]:
    return {
        "key": p.key,
        "label": p.label,
        "rank": p.rank,
        "score": p.score,
        "arrow": p.arrow,
        "previous_rank": p.previous_rank,
        "previous_score": p.previous_score,
        **{name: p.values.get(name) for name in Indicator.values},
    }


def _board(board: Board) -> dict[str, object]:
    return {
        "weights": [{"indicator": i, "weight": w} for i, w in board.weights],
        "formula": board.formula,
        "rows": [_placing(p) for p in board.placings],
    }


def _form(form_class: type[RankingForm] | type[TrendForm], request: Request) -> RankingForm | TrendForm:
    form = form_class(request.user, request.query_params.dict())
    if not form.fields["unit"].queryset.exists():
        raise NotFound("No report for you here.")
    if not form.is_valid():
        raise serializers.ValidationError(form.errors)
    return form


class RankingView(APIView):
    """Composite scores and ranks of the departments and of the regions (the area's child units) for a
    month, a quarter or a year, each with the previous period's rank and score and an arrow."""

    @extend_schema(
        parameters=[
            OpenApiParameter("unit", str, description="Org unit code (default: your jurisdiction)"),
            OpenApiParameter("period", str, enum=PeriodKind.values, description="month (default), quarter or year"),
            OpenApiParameter("date", OpenApiTypes.DATE, description="A day inside the period (default: today)"),
        ],
        responses={200: RankingOutput},
        tags=["reports"],
    )
    def get(self, request: Request) -> Response:
        data = _form(RankingForm, request).cleaned_data
        with report_reads():
            result = ranking(request.user, unit=data["unit"], period=data["period"], on=data["date"])
        return Response(
            {
                "unit": result.unit.code,
                "period": result.period,
                "label": result.label,
                "start": result.start,
                "end": result.end,
                "previous": {
                    "label": result.previous_label,
                    "start": result.previous_start,
                    "end": result.previous_end,
                },
                "generated_at": result.generated_at,
                "departments": _board(result.departments),
                "regions": _board(result.regions),
                "definitions": [{"name": str(n), "formula": str(f)} for n, f in DEFINITIONS],
            }
        )


class TrendMonthOutput(ReportRowOutput):
    month = serializers.IntegerField(min_value=1, max_value=12)


class TrendOutput(serializers.Serializer):
    unit = serializers.CharField()
    year = serializers.IntegerField()
    months = TrendMonthOutput(many=True)


class TrendView(APIView):
    """The area's figures month by month for a year (the months that have begun): the trend lines."""

    @extend_schema(
        parameters=[
            OpenApiParameter("unit", str, description="Org unit code (default: your jurisdiction)"),
            OpenApiParameter("year", int, description="Year (default: this year)"),
        ],
        responses={200: TrendOutput},
        tags=["reports"],
    )
    def get(self, request: Request) -> Response:
        data = _form(TrendForm, request).cleaned_data
        with report_reads():
            months = monthly_trend(request.user, unit=data["unit"], year=data["year"])
        return Response(
            {
                "unit": data["unit"].code,
                "year": data["year"],
                "months": [{"month": month, **row.as_dict()} for month, row in months],
            }
        )
