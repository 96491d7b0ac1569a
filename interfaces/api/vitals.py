"""REST API v1 for city vital signs: indicators, sensors, readings (JSON or CSV), warnings.

Reads are scoped (vitals.selectors): an operator or supervisor sees the sensors located in their units
and those sensors' warnings. Indicators and sensors are written by administrators; readings come
from administrators and 接入方 integrators (token auth), at most 10,000 a batch.
"""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Department, User
from core.errors import InvalidInput, NotFound, NotPermitted
from incidents.models import Category
from operations.services.readings import BatchTooLarge, readings_receive
from vitals.batch import MAX_ROWS, csv_rows
from vitals.levels import LEVELS
from vitals.models import Indicator, Sensor, VitalWarning, WarningKind, WarningState
from vitals.rules import rule_problems
from vitals.selectors import (
    admin_area_q,
    indicators_for_user,
    is_vitals_admin,
    may_place_sensor,
    sensors_for_user,
    warnings_for_user,
)


class IndicatorSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Category.objects.filter(parent__isnull=False, is_active=True),
        allow_null=True,
        required=False,
        help_text="The event category (a 小类 code) a warning files; null: warnings only",
    )
    thresholds = serializers.DictField(
        child=serializers.FloatField(allow_null=True),
        help_text='{"blue": x, "yellow": x, "orange": x, "red": x}; any level may be omitted',
    )
    recovery_value = serializers.FloatField(source="effective_recovery", read_only=True)

    class Meta:
        model = Indicator
        fields = [
            "code",
            "name",
            "domain",
            "group",
            "unit",
            "direction",
            "thresholds",
            "for_minutes",
            "recovery",
            "recovery_value",
            "nodata_minutes",
            "category",
            "event_level",
            "group_minutes",
            "is_active",
        ]

    def validate_thresholds(self, value: dict) -> dict:
        unknown = sorted(k for k in value if k not in LEVELS)
        if unknown:
            raise serializers.ValidationError(f"unknown level {', '.join(unknown)}; levels are {', '.join(LEVELS)}")
        return {k: v for k, v in value.items() if v is not None}

    def validate(self, attrs: dict) -> dict:
        current = self.instance
        merged = {
            name: attrs.get(name, getattr(current, name) if current is not None else default)
            for name, default in (("direction", "above"), ("thresholds", {}), ("for_minutes", 0), ("recovery", None))
        }
        problems = rule_problems(merged["direction"], merged["thresholds"], merged["for_minutes"], merged["recovery"])
        if problems:
            raise serializers.ValidationError(problems)
        return attrs


class SensorSerializer(serializers.ModelSerializer):
    indicator = serializers.SlugRelatedField(slug_field="code", queryset=Indicator.objects.all())
    owner_department = serializers.SlugRelatedField(
        slug_field="code", queryset=Department.objects.all(), allow_null=True, required=False
    )
    grid = serializers.CharField(source="grid.code", read_only=True)

    class Meta:
        model = Sensor
        fields = [
            "code",
            "name",
            "indicator",
            "latitude",
            "longitude",
            "grid",
            "owner_department",
            "is_virtual",
            "is_active",
            "last_at",
            "last_value",
            "last_seen_at",
        ]
        read_only_fields = ["grid", "last_at", "last_value", "last_seen_at"]


class WarningSerializer(serializers.ModelSerializer):
    indicator = serializers.CharField(source="indicator.code")
    sensor = serializers.CharField(source="sensor.code")
    event = serializers.CharField(source="event.code", allow_null=True, default=None)

    class Meta:
        model = VitalWarning
        fields = [
            "id",
            "indicator",
            "sensor",
            "kind",
            "level",
            "state",
            "started_at",
            "fired_at",
            "resolved_at",
            "peak_value",
            "last_value",
            "event",
            "muted",
        ]


def _require_admin(user: User) -> None:
    if not is_vitals_admin(user):
        raise NotPermitted(_("Only administrators configure indicators."))


def _save_sensor(serializer: SensorSerializer, user: User) -> Sensor:
    """Place the sensor in its grid (the spatial index), check the caller may put one there, then save."""
    if admin_area_q(user) is None:
        raise NotPermitted(_("Only administrators place sensors."))
    sensor = serializer.instance or Sensor()
    for name, value in serializer.validated_data.items():
        setattr(sensor, name, value)
    try:
        sensor.full_clean(validate_unique=False)  # clean() finds the grid
    except DjangoValidationError as exc:
        errors = exc.message_dict
        if "latitude" in errors:
            errors = {"location": errors.pop("latitude"), **errors}
        raise InvalidInput(errors) from None
    if not may_place_sensor(user, sensor.area_path):
        raise NotPermitted(_("You may not place sensors there: it lies outside your unit."))
    sensor.save()
    serializer.instance = sensor
    return sensor


@extend_schema(tags=["vitals"])
class IndicatorListCreateView(generics.ListCreateAPIView):
    """Indicators (体征指标): every signed-in user reads them; administrators create them."""

    serializer_class = IndicatorSerializer

    def get_queryset(self):
        qs = indicators_for_user(self.request.user)
        if domain := self.request.query_params.get("domain"):
            qs = qs.filter(domain=domain)
        return qs.order_by("domain", "group", "code")

    def perform_create(self, serializer):
        _require_admin(self.request.user)
        serializer.save()


@extend_schema(tags=["vitals"])
class IndicatorDetailView(generics.RetrieveUpdateAPIView):
    serializer_class = IndicatorSerializer
    lookup_field = "code"

    def get_queryset(self):
        return indicators_for_user(self.request.user)

    def perform_update(self, serializer):
        _require_admin(self.request.user)
        serializer.save()


@extend_schema(tags=["vitals"], parameters=[OpenApiParameter("indicator", str, description="An indicator code")])
class SensorListCreateView(generics.ListCreateAPIView):
    """Sensors (感知设备): each is placed in the grid covering its point; listed within the caller's units."""

    serializer_class = SensorSerializer

    def get_queryset(self):
        qs = sensors_for_user(self.request.user).select_related("indicator", "grid", "owner_department")
        if indicator := self.request.query_params.get("indicator"):
            qs = qs.filter(indicator__code=indicator)
        return qs.order_by("code")

    def perform_create(self, serializer):
        _save_sensor(serializer, self.request.user)


@extend_schema(tags=["vitals"])
class SensorDetailView(generics.RetrieveUpdateAPIView):
    serializer_class = SensorSerializer
    lookup_field = "code"

    def get_queryset(self):
        return sensors_for_user(self.request.user).select_related("indicator", "grid", "owner_department")

    def perform_update(self, serializer):
        _save_sensor(serializer, self.request.user)


ReadingsAnswer = inline_serializer(
    "ReadingsAnswer",
    {
        "accepted": serializers.IntegerField(help_text="stored and evaluated"),
        "duplicates": serializers.IntegerField(help_text="a (sensor, at) already stored or repeated in the batch"),
        "late": serializers.IntegerField(help_text="older than the sensor's last evaluated reading: stored only"),
        "rejected": serializers.IntegerField(),
        "errors": inline_serializer(
            "ReadingError",
            {
                "row": serializers.IntegerField(help_text="1-based position in the batch (CSV: after the header)"),
                "field": serializers.CharField(),
                "message": serializers.CharField(),
            },
            many=True,
        ),
    },
)


class ReadingsView(APIView):
    """POST a batch of readings: a JSON list of {"sensor", "value", "at"} or CSV `sensor,value,at`."""

    @extend_schema(
        tags=["vitals"],
        request={
            "application/json": inline_serializer(
                "ReadingIn",
                {
                    "sensor": serializers.CharField(),
                    "value": serializers.FloatField(),
                    "at": serializers.DateTimeField(),
                },
                many=True,
            ),
            "text/csv": {"type": "string", "description": "sensor,value,at (header optional)"},
        },
        responses={200: ReadingsAnswer},
        examples=[
            OpenApiExample(
                "two readings",
                value=[
                    {"sensor": "wl-nanhu-001", "value": 12.5, "at": "2026-07-01T08:00:00+08:00"},
                    {"sensor": "wl-nanhu-001", "value": 15, "at": "2026-07-01T08:05:00+08:00"},
                ],
                request_only=True,
            )
        ],
        description=(
            "At most 10,000 readings a batch (more: 413, nothing stored). Every row is exactly one of accepted, "
            "duplicates, late or rejected; rules are evaluated in reading time (`at`)."
        ),
    )
    def post(self, request, *args, **kwargs):
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        body = request.body
        if content_type in ("text/csv", "application/csv"):
            text = body.decode("utf-8-sig", errors="replace")
            rows: list = csv_rows(text)
        else:
            try:
                rows = json.loads(body or b"null")
            except (ValueError, UnicodeDecodeError):
                raise InvalidInput({"__all__": _("The body is not JSON.")}) from None
            if not isinstance(rows, list):
                raise InvalidInput({"__all__": _("Send a JSON list of readings.")})
        if len(rows) > MAX_ROWS:
            raise BatchTooLarge(
                _("A batch holds at most %(max)d readings; this one has %(n)d. Nothing was stored.")
                % {"max": MAX_ROWS, "n": len(rows)}
            )
        received = readings_receive(actor=request.user, rows=rows)
        return Response(received.as_dict(), status=status.HTTP_200_OK)


WARNING_FILTERS = [
    OpenApiParameter("sensor", str, description="A sensor code"),
    OpenApiParameter("indicator", str, description="An indicator code"),
    OpenApiParameter("state", str, enum=list(WarningState.values)),
    OpenApiParameter("level", str, enum=list(LEVELS)),
    OpenApiParameter("kind", str, enum=list(WarningKind.values)),
]


@extend_schema(tags=["vitals"], parameters=WARNING_FILTERS)
class WarningListView(generics.ListAPIView):
    """Warnings (预警) of the sensors the caller sees, oldest first."""

    serializer_class = WarningSerializer

    def get_queryset(self):
        params = self.request.query_params
        qs = warnings_for_user(self.request.user).select_related("indicator", "sensor", "event")
        choices = {"state": WarningState.values, "level": list(LEVELS), "kind": WarningKind.values}
        errors = {}
        for name, allowed in choices.items():
            value = params.get(name)
            if value and value not in allowed:
                errors[name] = _("%(name)s is one of %(values)s.") % {"name": name, "values": ", ".join(allowed)}
            elif value:
                qs = qs.filter(**{name: value})
        if errors:
            raise InvalidInput(errors)
        if sensor := params.get("sensor"):
            qs = qs.filter(sensor__code=sensor)
        if indicator := params.get("indicator"):
            qs = qs.filter(indicator__code=indicator)
        return qs.order_by("started_at", "id")


@extend_schema(tags=["vitals"])
class WarningDetailView(generics.RetrieveAPIView):
    serializer_class = WarningSerializer

    def get_object(self):
        try:
            return (
                warnings_for_user(self.request.user)
                .select_related("indicator", "sensor", "event")
                .get(pk=int(self.kwargs["pk"]))
            )
        except (VitalWarning.DoesNotExist, ValueError):
            raise NotFound(_("No such warning.")) from None
