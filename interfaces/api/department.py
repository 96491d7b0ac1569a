"""The inbound API for department systems: the operations the table offers them (accept, return,
ask for an extension or a suspension, submit the result).

Each request is signed with the department's shared secret (same scheme as
our webhooks). A department system acts only on events it leads; any other
event is "not found" to it.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import authentication, exceptions, permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Department
from core.errors import NotFound
from dispatch.models import DepartmentEndpoint
from incidents.models import OPEN_STATES, Event
from incidents.permissions import Acting
from interfaces.api.operation_inputs import input_serializer, parsed_values
from operations import table
from operations.table import Operation
from operations.webhooks import DEPARTMENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign_request


@dataclass
class DepartmentSystem:
    """The authenticated caller: a department's own system, not a person."""

    department: Department
    is_authenticated: bool = True
    is_active: bool = True
    is_superuser: bool = False

    @property
    def acting(self) -> Acting:
        return Acting(user=None, role="department_system", department=self.department)


class DepartmentSignatureAuthentication(authentication.BaseAuthentication):
    def authenticate_header(self, request) -> str:
        return 'Citygov-HMAC realm="department-systems"'

    def authenticate(self, request):
        code = request.headers.get(DEPARTMENT_HEADER)
        timestamp = request.headers.get(TIMESTAMP_HEADER, "")
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not code:
            raise exceptions.NotAuthenticated(f"Send {DEPARTMENT_HEADER}, {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}.")
        endpoint = (
            DepartmentEndpoint.objects.filter(department__code=code, is_active=True)
            .select_related("department")
            .first()
        )
        try:
            skew = abs(time.time() - int(timestamp))
        except ValueError:
            raise exceptions.AuthenticationFailed(f"{TIMESTAMP_HEADER} must be Unix seconds.") from None
        if skew > settings.DEPARTMENT_API_MAX_SKEW_SECONDS:
            raise exceptions.AuthenticationFailed(f"{TIMESTAMP_HEADER} is more than 5 minutes away from our clock.")
        # Same answer for an unknown department and a wrong signature: nothing to probe.
        expected = endpoint and sign_request(endpoint.secret, timestamp, request.method, request.path, request.body)
        if endpoint is None or not hmac.compare_digest(expected, signature):
            raise exceptions.AuthenticationFailed("The signature does not match.")
        # Each signature once: a captured request cannot be sent again within the time window.
        first_use = cache.add(
            f"citygov:dept-signature:{signature}", 1, timeout=2 * settings.DEPARTMENT_API_MAX_SKEW_SECONDS
        )
        if first_use is None:  # the shared cache is unreachable: replay cannot be ruled out
            raise ReplayCheckUnavailable()
        if not first_use:
            raise exceptions.AuthenticationFailed("This signed request was already used.")
        return DepartmentSystem(endpoint.department), endpoint


class ReplayCheckUnavailable(exceptions.APIException):
    status_code = 503
    default_detail = "Signed requests cannot be checked for replay right now; retry shortly."
    default_code = "replay_check_unavailable"


class IsDepartmentSystem(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, DepartmentSystem)


class _DepartmentView(APIView):
    authentication_classes = [DepartmentSignatureAuthentication]
    permission_classes = [IsDepartmentSystem]

    def own_event(self, request, code: str) -> Event:
        """The caller's own event (it leads it), or 404 for anything else."""
        event = (
            Event.objects.filter(code=code, lead_department=request.user.department)
            .only("id", "code", "state", "version")
            .first()
        )
        if event is None:
            raise NotFound("No such event for this department.")
        return event


class DepartmentEventState(serializers.Serializer):
    code = serializers.CharField()
    state = serializers.CharField()
    version = serializers.IntegerField()


def _state(event: Event, changed: object) -> dict:
    """The event after the operation: the service's own copy of it when it returns the event (no
    re-read); else (a request to decide, which adds a history record) its three fields read again."""
    if isinstance(changed, Event) and changed.pk == event.pk:
        event = changed
    else:
        event.refresh_from_db(fields=["code", "state", "version"])
    return {"code": event.code, "state": event.state, "version": event.version}


CODE = OpenApiParameter("code", str, OpenApiParameter.PATH, description="Event code")


class DepartmentInboxView(_DepartmentView):
    """Open events this department leads."""

    @extend_schema(responses={200: DepartmentEventState(many=True)}, tags=["department systems"])
    def get(self, request):
        events = Event.objects.filter(lead_department=request.user.department, state__in=OPEN_STATES).order_by("id")[
            :500
        ]
        return Response([{"code": e.code, "state": e.state, "version": e.version} for e in events])


def _department_view(op: Operation) -> type[_DepartmentView]:
    """The signed endpoint of one table operation; a request answers 201 (it creates a request to
    decide), a state change 200."""
    input_class = input_serializer(op.inputs, prefix="Department")
    status = 201 if op.target is None else 200

    class DepartmentOperationView(_DepartmentView):
        @extend_schema(
            request=input_class if op.inputs.fields else None,
            responses={status: DepartmentEventState},
            parameters=[CODE],
            tags=["department systems"],
        )
        def post(self, request, code: str):
            event = self.own_event(request, code)
            data = input_class(data=request.data)
            data.is_valid(raise_exception=True)
            changed = table.perform(
                op,
                actor=None,
                acting=request.user.acting,
                event_id=event.pk,
                values=parsed_values(op, request.user, data.validated_data),
                expected_version=data.validated_data.get("expected_version"),
            )
            return Response(_state(event, changed), status=status)

    DepartmentOperationView.__name__ = f"Department{op.name.title().replace('-', '')}View"
    DepartmentOperationView.__doc__ = f"{op.name.replace('-', ' ').capitalize()}, by the lead department's own system."
    return DepartmentOperationView


# path under /api/v1/department-system/events/{code}/ → view, for every operation the table offers them
DEPARTMENT_VIEWS: dict[str, type[_DepartmentView]] = {
    op.department_path: _department_view(op) for op in table.offered(table.DEPARTMENT)
}


class DepartmentSignatureScheme(OpenApiAuthenticationExtension):
    """Describes the HMAC scheme in the OpenAPI schema."""

    target_class = "interfaces.api.department.DepartmentSignatureAuthentication"
    name = "departmentSignature"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": SIGNATURE_HEADER,
            "description": (
                f"sha256=<hex HMAC-SHA256 of '<{TIMESTAMP_HEADER}>.<METHOD> <path>\\n<body>' "
                "with the department secret>; "
                f"also send {DEPARTMENT_HEADER} (department code) and {TIMESTAMP_HEADER} (Unix seconds)."
            ),
        }
