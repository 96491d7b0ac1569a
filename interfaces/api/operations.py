"""`POST /api/v1/events/{code}/{operation}`: one endpoint per operation of the table (operations.table).

The request serializer of each shared set of inputs, its OpenAPI component (named after the
set), and the answer, are all derived from the table; a new table entry is a new endpoint.
"""

from __future__ import annotations

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Department
from core.errors import NotFound
from incidents.models import Event
from incidents.selectors import event_for_user
from interfaces.api.events import EventSerializer, PhotoField, decode_photos
from interfaces.idempotency import IdempotentMixin
from interfaces.outcomes import lost_sight_message
from operations import table
from operations.table import Field, Inputs, Operation

TEXT_MAX = 2000


def _serializer_field(field: Field) -> serializers.Field:
    required = field.required
    if field.kind == "text":
        return serializers.CharField(max_length=TEXT_MAX, required=required, allow_blank=not required)
    if field.kind == "short_text":
        return serializers.CharField(max_length=32, required=required, allow_blank=True, help_text=field.help_text)
    if field.kind == "photos":
        if required:
            return PhotoField(many=True, min_length=1, max_length=9)
        return PhotoField(many=True, required=False, max_length=9)
    if field.kind == "department":
        return serializers.SlugRelatedField(slug_field="code", queryset=Department.objects.filter(is_active=True))
    if field.kind == "departments":
        return serializers.SlugRelatedField(
            slug_field="code", queryset=Department.objects.filter(is_active=True), many=True, required=False
        )
    if field.kind == "hours":
        return serializers.IntegerField(min_value=1, max_value=720)
    if field.kind == "passed":
        return serializers.BooleanField()
    if field.kind == "event_code":
        return serializers.CharField(help_text="Code of the event this one duplicates")
    raise ValueError(f"no API field for input kind {field.kind!r}")


class VersionInput(serializers.Serializer):
    expected_version = serializers.IntegerField(
        required=False, min_value=1, help_text="Refuse with 409 if the event changed."
    )


_classes: dict[str, type[serializers.Serializer]] = {"VersionInput": VersionInput}


def input_serializer(inputs: Inputs, prefix: str = "") -> type[serializers.Serializer]:
    """The serializer class of one set of inputs; its name is its schema component."""
    name = prefix + inputs.name
    if name not in _classes:
        attrs = {f.name: _serializer_field(f) for f in inputs.fields}
        _classes[name] = type(name, (VersionInput,), attrs)
    return _classes[name]


def parsed_values(op: Operation, user, validated: dict) -> dict:
    """Validated API input as the table's `perform` takes it: photos decoded, event codes looked up
    in the caller's scope (an event they may not see is "not found")."""
    values = {}
    for f in op.inputs.fields:
        if f.name not in validated:
            continue
        value = validated[f.name]
        if f.kind == "photos":
            value = decode_photos(value)
        elif f.kind == "event_code":
            value = event_for_user(user, code=value).pk
        values[f.name] = value
    return values


class LostSightOutcome(serializers.Serializer):
    """What the caller may still know after an operation that took the event out of their view
    (a department that returned it, an operator who merged it away): the outcome, not the event."""

    code = serializers.CharField()
    state = serializers.CharField()
    version = serializers.IntegerField()
    visible = serializers.BooleanField(help_text="Always false here: the event is no longer in your view.")
    message = serializers.CharField()


OPERATION_RESULT = PolymorphicProxySerializer(
    component_name="OperationResult",
    serializers=[EventSerializer, LostSightOutcome],
    resource_type_field_name=None,
)


def operation_outcome(request, event_id: int, name: str) -> dict:
    """The true outcome of an operation that succeeded: the event as the caller now sees it, or,
    when the operation took it out of their view, its code, state, version and a message. A 404
    here would tell a client that retries to perform the operation a second time."""
    try:
        return EventSerializer(event_for_user(request.user, pk=event_id), context={"request": request}).data
    except NotFound:
        code, state, version = Event.objects.values_list("code", "state", "version").get(pk=event_id)
        return {
            "code": code,
            "state": state,
            "version": version,
            "visible": False,
            "message": lost_sight_message(name, state),
        }


def _operation_view(op: Operation) -> type[APIView]:
    input_class = input_serializer(op.inputs)

    class OperationView(IdempotentMixin, APIView):
        @extend_schema(
            request=input_class,
            responses={200: OPERATION_RESULT},
            tags=["lifecycle"],
            operation_id=f"events_{op.name.replace('-', '_')}",
            summary=f"{op.name} an event",
        )
        def post(self, request, code: str):
            event = event_for_user(request.user, code=code)
            data = input_class(data=request.data)
            data.is_valid(raise_exception=True)
            table.perform(
                op,
                actor=request.user,
                event_id=event.pk,
                values=parsed_values(op, request.user, data.validated_data),
                expected_version=data.validated_data.get("expected_version"),
            )
            return Response(operation_outcome(request, event.pk, op.name))

    OperationView.__name__ = f"Event{op.name.title().replace('-', '')}View"
    OperationView.__doc__ = (
        f"{op.name.replace('-', ' ').capitalize()} (one lifecycle operation; see docs/PERMISSIONS.md). "
        f"Who may: {op.who.description}."
    )
    return OperationView


OPERATION_VIEWS: dict[str, type[APIView]] = {op.name: _operation_view(op) for op in table.offered(table.API)}
