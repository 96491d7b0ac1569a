"""POST /api/v1/dispatch/suggest: category and department from free text (智能分拨), for operators."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.grid_index import locate_grid
from accounts.selectors import units_granting
from dispatch.learning.store import LoadedModel, current_problem
from dispatch.learning.suggest import Suggestion, suggest
from incidents.models import Source


class SuggestInput(serializers.Serializer):
    title = serializers.CharField(required=False, allow_blank=True, max_length=120, default="")
    description = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    latitude = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90, default=None)
    longitude = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180, default=None)
    source = serializers.ChoiceField(choices=Source.choices, default=Source.OTHER)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not (attrs["title"].strip() or attrs["description"].strip()):
            raise serializers.ValidationError({"title": _("Give a title or a description to suggest from.")})
        if (attrs["latitude"] is None) != (attrs["longitude"] is None):
            raise serializers.ValidationError({"longitude": _("Give both latitude and longitude, or neither.")})
        if attrs["latitude"] is not None:
            attrs["grid"] = locate_grid(attrs["latitude"], attrs["longitude"])
            if attrs["grid"] is None:
                raise serializers.ValidationError({"location": _("The point lies outside every grid of the city.")})
        else:
            attrs["grid"] = None
        return attrs


class SuggestionOutput(serializers.Serializer):
    category = serializers.CharField(help_text="小类 code, e.g. E0101")
    category_name = serializers.CharField()
    department = serializers.CharField(allow_null=True, help_text="Department code the routing rules give here")
    department_name = serializers.CharField(allow_null=True)
    confidence = serializers.FloatField(help_text="Calibrated probability that the category is right, 0–1")
    by_rule = serializers.BooleanField(help_text="The department came from a routing rule (else from history)")
    words = serializers.ListField(child=serializers.CharField(), help_text="Words in the text that drove it")


class ModelOutput(serializers.Serializer):
    available = serializers.BooleanField()
    problem = serializers.CharField(allow_blank=True)
    kind = serializers.CharField(allow_null=True, help_text="history, or catalogue (no history yet)")
    trained_at = serializers.CharField(allow_null=True)
    events = serializers.IntegerField(allow_null=True)
    top1 = serializers.FloatField(allow_null=True, help_text="Held-out top-1 accuracy at training")
    top3 = serializers.FloatField(allow_null=True)


class SuggestOutput(serializers.Serializer):
    grid = serializers.CharField(allow_null=True)
    suggestions = SuggestionOutput(many=True)
    model = ModelOutput()


def suggestion_json(s: Suggestion) -> dict[str, Any]:
    return {
        "category": s.category.code,
        "category_name": s.category.name,
        "department": s.department.code if s.department else None,
        "department_name": s.department.name if s.department else None,
        "confidence": s.confidence,
        "by_rule": s.by_rule,
        "words": s.words,
    }


def model_json(model: LoadedModel | None) -> dict[str, Any]:
    if model is None:
        return {"available": False, "problem": current_problem(), "kind": None, "trained_at": None,
                "events": None, "top1": None, "top3": None}  # fmt: skip
    meta = model.meta
    evaluation = meta.get("evaluation") or {}
    return {"available": True, "problem": "", "kind": meta.get("kind"), "trained_at": meta.get("trained_at"),
            "events": meta.get("events"), "top1": evaluation.get("top1"), "top3": evaluation.get("top3")}  # fmt: skip


class DispatchSuggestView(APIView):
    """Up to three categories for a free-text report, best first, each with its calibrated confidence, the
    words that drove it and the department the routing rules give for it at the place. Operators only.
    Without a usable model the answer is 200 with no suggestions (routing rules alone)."""

    @extend_schema(request=SuggestInput, responses={200: SuggestOutput}, tags=["routing"])
    def post(self, request):
        if not units_granting(request.user, "operate_event"):
            raise PermissionDenied(_("Only operators get dispatch suggestions."))
        data = SuggestInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        found, model = suggest(title=v["title"], description=v["description"], source=v["source"], grid=v["grid"])
        return Response(
            {
                "grid": v["grid"].code if v["grid"] else None,
                "suggestions": [suggestion_json(s) for s in found],
                "model": model_json(model),
            }
        )
