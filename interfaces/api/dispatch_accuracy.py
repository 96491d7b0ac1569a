"""GET /api/v1/reports/dispatch-accuracy: 首派准确率, 自动派发率, 回退率 for the model, rules and people."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from dispatch.dispatch_accuracy import DEFINITIONS, dispatch_accuracy
from incidents.selectors import events_for_user
from interfaces.api.dispatch import REPORT_PARAMETERS, DefinitionOutput, report_area_and_period


class TallyOutput(serializers.Serializer):
    first_dispatches = serializers.IntegerField()
    accurate = serializers.IntegerField(help_text="First dispatches neither returned nor redispatched")
    returned = serializers.IntegerField()
    accuracy = serializers.FloatField(allow_null=True, help_text="首派准确率")
    return_rate = serializers.FloatField(allow_null=True, help_text="回退率")


class AccuracyRowOutput(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    all = TallyOutput()
    model = TallyOutput()
    rule = TallyOutput()
    person = TallyOutput()
    model_dispatch_rate = serializers.FloatField(allow_null=True, help_text="自动派发率")


class AccuracyReportOutput(serializers.Serializer):
    unit = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    total = AccuracyRowOutput()
    by_month = AccuracyRowOutput(many=True)
    by_category = AccuracyRowOutput(many=True)
    definitions = DefinitionOutput(many=True)


class DispatchAccuracyView(APIView):
    """Dispatch accuracy of the events first dispatched in the period inside the area (your scope only)."""

    @extend_schema(parameters=REPORT_PARAMETERS, responses={200: AccuracyReportOutput}, tags=["reports"])
    def get(self, request):
        data = report_area_and_period(request)
        unit, start, end = data["unit"], data["start"], data["end"]
        events = events_for_user(request.user).filter(area_path__startswith=unit.path)
        report = dispatch_accuracy(events, start, end)
        return Response(
            {
                "unit": unit.code,
                "start": start,
                "end": end,
                "total": report.total.as_dict(),
                "by_month": [r.as_dict() for r in report.by_month],
                "by_category": [r.as_dict() for r in report.by_category],
                "definitions": [{"name": str(n), "formula": str(f)} for n, f in DEFINITIONS],
            }
        )
