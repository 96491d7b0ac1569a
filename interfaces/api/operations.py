"""`POST /api/v1/events/{code}/{operation}`: one endpoint per operation of the table (operations.table).

The request serializer of each shared set of inputs, its OpenAPI component (named after the
set), and the answer, are all derived from the table; a new table entry is a new endpoint.
"""

from __future__ import annotations

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import NotFound
from incidents.models import Event
from incidents.selectors import event_for_user
from interfaces.api.events import EventSerializer
from interfaces.api.operation_inputs import input_serializer, parsed_values
from interfaces.idempotency import IdempotentMixin
from interfaces.outcomes import lost_sight_message
from operations import table
from operations.table import Operation


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
