"""API views owned by dispatch: routing simulation and the department-system endpoints."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from dispatch.models import SlaClock
from dispatch.reports import DEFINITIONS, sla_report
from dispatch.routing import Decision, simulate
from incidents.models import Category, Source, Urgency
from interfaces.report_inputs import ReportForm


class SimulationInput(serializers.Serializer):
    category = serializers.SlugRelatedField(
        slug_field="code", queryset=Category.objects.filter(parent__isnull=False, is_active=True)
    )
    latitude = serializers.FloatField(min_value=-90, max_value=90)
    longitude = serializers.FloatField(min_value=-180, max_value=180)
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    source = serializers.ChoiceField(choices=Source.choices, default=Source.GRID_WORKER)
    at = serializers.DateTimeField(required=False)
    text = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")


def _department(dept) -> dict | None:
    if dept is None:
        return None
    return {"code": dept.code, "name": dept.name, "type": dept.type.code, "org_unit": dept.org_unit.code}


def decision_json(decision: Decision) -> dict:
    winner = decision.winner
    return {
        "grid": decision.situation.grid.code,
        "rule": {"id": winner.rule.pk, "name": winner.rule.name, "mode": winner.rule.mode} if winner else None,
        "department": _department(decision.department),
        "co_departments": [_department(d) for d in decision.co_departments],
        "candidates": [
            {
                "rule": c.rule.pk,
                "name": c.rule.name,
                "priority": c.rule.priority,
                "matched": c.matched,
                "wins": c is winner,
                "lost_because": None if c is winner else c.reason,
            }
            for c in decision.candidates
        ],
    }


class CandidateOutput(serializers.Serializer):
    rule = serializers.IntegerField()
    name = serializers.CharField()
    priority = serializers.IntegerField()
    matched = serializers.BooleanField()
    wins = serializers.BooleanField()
    lost_because = serializers.CharField(allow_null=True)


class DepartmentOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    type = serializers.CharField()
    org_unit = serializers.CharField()


class RuleOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    mode = serializers.CharField()


class SimulationOutput(serializers.Serializer):
    grid = serializers.CharField()
    rule = RuleOutput(allow_null=True)
    department = DepartmentOutput(allow_null=True)
    co_departments = DepartmentOutput(many=True)
    candidates = CandidateOutput(many=True)


class RoutingSimulationView(APIView):
    """Who would get this event? Takes category, location, urgency, source and time; files nothing."""

    @extend_schema(request=SimulationInput, responses={200: SimulationOutput}, tags=["routing"])
    def post(self, request):
        data = SimulationInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        try:
            decision = simulate(
                category=v["category"],
                latitude=v["latitude"],
                longitude=v["longitude"],
                urgency=v.get("urgency"),
                source=v["source"],
                at=v.get("at"),
                text=v["text"],
            )
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return Response(decision_json(decision))


class ClockSerializer(serializers.ModelSerializer):
    """One step's time limit on an event, as the event page's "Time limits" shows it."""

    running = serializers.BooleanField(read_only=True)
    calendar_unknown = serializers.BooleanField(
        read_only=True,
        help_text="The deadline runs over days whose public holidays the calendar does not know yet "
        "(Monday-Friday assumed); it may move once they are entered.",
    )

    class Meta:
        model = SlaClock
        fields = ["step", "light", "working_time", "started_at", "due_at", "original_due_at", "paused_at",
                  "stopped_at", "breached_at", "running", "calendar_unknown"]  # fmt: skip
        read_only_fields = fields


class ReportRowOutput(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    received = serializers.IntegerField()
    dispatched = serializers.IntegerField()
    should_close = serializers.IntegerField()
    closed = serializers.IntegerField()
    closed_on_time = serializers.IntegerField()
    reworked = serializers.IntegerField()
    overdue_now = serializers.IntegerField()
    returns = serializers.IntegerField()
    extensions = serializers.IntegerField()
    suspensions = serializers.IntegerField()
    open_green = serializers.IntegerField()
    open_yellow = serializers.IntegerField()
    open_red = serializers.IntegerField()
    closure_rate = serializers.FloatField(allow_null=True)
    on_time_rate = serializers.FloatField(allow_null=True)
    rework_rate = serializers.FloatField(allow_null=True)
    mean_handling_hours = serializers.FloatField(allow_null=True)
    p90_handling_hours = serializers.FloatField(allow_null=True)
    # Beside the fields above (#15): 立案数, 超期未结案数, and the department names of the same figures.
    cases = serializers.IntegerField()
    overdue_open = serializers.IntegerField()
    urges = serializers.IntegerField()
    accepts = serializers.IntegerField()
    co_handled = serializers.IntegerField()
    should_handle = serializers.IntegerField()
    handled = serializers.IntegerField()
    handled_on_time = serializers.IntegerField()
    handling_rate = serializers.FloatField(allow_null=True)
    on_time_handling_rate = serializers.FloatField(allow_null=True)
    overdue_unhandled = serializers.IntegerField()


class DispatcherRowOutput(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    dispatches = serializers.IntegerField()
    timed_dispatches = serializers.IntegerField()
    on_time_dispatches = serializers.IntegerField()
    wrong_dispatches = serializers.IntegerField()
    on_time_dispatch_rate = serializers.FloatField(allow_null=True)
    accurate_dispatch_rate = serializers.FloatField(allow_null=True)


class GridWorkerRowOutput(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    reports = serializers.IntegerField()
    valid_reports = serializers.IntegerField()
    verifications = serializers.IntegerField()
    timed_verifications = serializers.IntegerField()
    on_time_verifications = serializers.IntegerField()
    valid_report_rate = serializers.FloatField(allow_null=True)
    on_time_verification_rate = serializers.FloatField(allow_null=True)


class DefinitionOutput(serializers.Serializer):
    name = serializers.CharField()
    formula = serializers.CharField()


# The area and the period every report endpoint reads (interfaces.report_inputs.ReportForm).
REPORT_PARAMETERS = [
    OpenApiParameter("unit", str, description="Org unit code (default: your jurisdiction)"),
    OpenApiParameter("start", OpenApiTypes.DATE, description="First day (default: first of this month)"),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last day, inclusive (default: today)"),
]


def report_area_and_period(request) -> dict:
    """`unit`, `start`, `end` of a report request: 404 for a reader with no area, 400 naming a bad field."""
    form = ReportForm(request.user, request.query_params.dict())
    if not form.fields["unit"].queryset.exists():
        raise NotFound("No report for you here.")
    if not form.is_valid():
        raise serializers.ValidationError(form.errors)
    return form.cleaned_data


class ReportOutput(serializers.Serializer):
    unit = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    generated_at = serializers.DateTimeField()
    total = ReportRowOutput()
    by_department = ReportRowOutput(many=True)
    by_region = ReportRowOutput(many=True)
    by_dispatcher = DispatcherRowOutput(many=True)
    by_grid_worker = GridWorkerRowOutput(many=True)
    definitions = DefinitionOutput(many=True)


class SlaReportView(APIView):
    """The SLA and evaluation report for an area (its subtree) and a period, as JSON."""

    @extend_schema(parameters=REPORT_PARAMETERS, responses={200: ReportOutput}, tags=["reports"])
    def get(self, request):
        data = report_area_and_period(request)
        report = sla_report(request.user, unit=data["unit"], start=data["start"], end=data["end"])
        return Response(
            {
                "unit": report.unit.code,
                "start": report.start,
                "end": report.end,
                "total": report.total.as_dict(),
                "by_department": [r.as_dict() for r in report.by_department],
                "by_region": [r.as_dict() for r in report.by_region],
                "by_dispatcher": [r.as_dict() for r in report.by_dispatcher],
                "by_grid_worker": [r.as_dict() for r in report.by_grid_worker],
                "generated_at": report.generated_at,
                "definitions": [{"name": str(n), "formula": str(f)} for n, f in DEFINITIONS],
            }
        )
