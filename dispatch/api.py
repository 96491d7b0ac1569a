"""API views owned by dispatch: routing simulation and the department-system endpoints."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.models import Category, Source, Urgency

from .routing import Decision, simulate


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
