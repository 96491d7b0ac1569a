"""REST API v1 for events: scoped reads with cursor pagination, and one POST per lifecycle operation."""

from __future__ import annotations

from datetime import datetime, time

from django.db.models import Q
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Department, OrgUnit
from core.errors import NotFound
from incidents.models import ApprovalRequest, Category, Event, EventRecord, Source, State, Urgency
from incidents.privacy import contact_for, reveal_roots
from incidents.selectors import event_for_user, events_for_user, history_for_user
from interfaces.api.built_fields import FieldsBuiltOnce
from interfaces.api.dispatch import ClockSerializer
from interfaces.api.operation_inputs import PhotoField, decode_photos
from interfaces.attachments import api_photo_url
from interfaces.idempotency import IdempotentMixin
from interfaces.inputs import MAX_DAY, MIN_DAY
from operations import services

# Sources a signed-in caller may name; Open311 intake has its own endpoint.
INTAKE_SOURCES = [(value, label) for value, label in Source.choices if value != Source.OPEN311]


class EventCursor(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"


class CategorySerializer(serializers.ModelSerializer):
    major = serializers.CharField(source="parent.code", allow_null=True, read_only=True)

    class Meta:
        model = Category
        fields = ["code", "name", "name_en", "kind", "major", "default_urgency", "is_active"]


class OrgUnitSerializer(serializers.ModelSerializer):
    parent = serializers.CharField(source="parent.code", allow_null=True, read_only=True)

    class Meta:
        model = OrgUnit
        fields = ["code", "name", "tier", "parent", "boundary"]


class DepartmentSerializer(serializers.ModelSerializer):
    type = serializers.CharField(source="type.code")
    org_unit = serializers.CharField(source="org_unit.code")

    class Meta:
        model = Department
        fields = ["code", "name", "type", "org_unit", "is_active"]


class ContactSerializer(serializers.Serializer):
    name = serializers.CharField()
    phone = serializers.CharField()
    masked = serializers.BooleanField()


class PhotoLinkSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    content_type = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    sha256 = serializers.CharField()
    url = serializers.URLField(help_text="GET with the same credentials; 404 for anyone who may not see the event")
    thumbnail_url = serializers.URLField(help_text="The same photo at most 320 px on its longer side (WebP)")


class EventSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    category = serializers.CharField(source="category.code")
    grid = serializers.CharField(source="grid.code")
    owner_unit = serializers.CharField(source="owner_unit.code")
    lead_department = serializers.CharField(source="lead_department.code", allow_null=True, default=None)
    co_departments = serializers.SerializerMethodField()
    reporter_contact = serializers.SerializerMethodField()
    photos = serializers.SerializerMethodField()

    class Meta:
        model = Event
        fields = [
            "id", "code", "title", "description", "category", "urgency", "source", "state", "version",
            "latitude", "longitude", "address", "grid", "owner_unit", "lead_department", "co_departments",
            "reporter_contact", "light", "due_at", "urge_count", "rework_count", "return_count",
            "reported_at", "dispatched_at", "accepted_at", "handled_at", "verified_at", "closed_at", "photos",
        ]  # fmt: skip

    def get_co_departments(self, obj) -> list[str]:
        return sorted(d.code for d in obj.co_departments.all())

    @extend_schema_field(ContactSerializer)
    def get_reporter_contact(self, obj) -> dict:
        user = self.context["request"].user
        if "reveal_roots" not in self.context:
            self.context["reveal_roots"] = reveal_roots(user)
        contact = contact_for(user, obj, self.context["reveal_roots"])
        return {"name": contact.name, "phone": contact.phone, "masked": contact.masked}

    @extend_schema_field(PhotoLinkSerializer(many=True))
    def get_photos(self, obj) -> list[dict]:
        # Links to the scoped photo route only: MEDIA_URL serves nothing (interfaces.attachments).
        request = self.context["request"]
        return [
            {"id": a.pk, "kind": a.kind, "content_type": a.content_type, "width": a.width, "height": a.height,
             "sha256": a.sha256, "url": api_photo_url(request, obj.code, a),
             "thumbnail_url": api_photo_url(request, obj.code, a, "thumb")}
            for a in obj.attachments.all()
        ]  # fmt: skip


class RecordSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", allow_null=True, default=None)
    actor_unit = serializers.CharField(source="actor_unit.code", allow_null=True, default=None)
    actor_department = serializers.CharField(source="actor_department.code", allow_null=True, default=None)
    # As selectors.history_for_user shows it: another event's code only if the reader may see it.
    data = serializers.JSONField(source="shown_data")

    class Meta:
        model = EventRecord
        fields = ["seq", "action", "actor", "actor_role", "actor_unit", "actor_department", "from_state", "to_state",
                  "reason", "data", "created_at", "prev_hash", "hash"]  # fmt: skip


EVENT_FILTERS = [
    OpenApiParameter("state", str, enum=State.values),
    OpenApiParameter("category", str, description="A subclass or a major-class code"),
    OpenApiParameter("urgency", int, enum=[1, 2, 3]),
    OpenApiParameter("light", str, enum=["green", "yellow", "red"]),
    OpenApiParameter("owner_tier", int, enum=[1, 2, 3]),
    OpenApiParameter("source", str, enum=Source.values),
    OpenApiParameter("within", str, description="Org unit code: events inside it"),
    OpenApiParameter("reported_from", str, description="YYYY-MM-DD, inclusive"),
    OpenApiParameter("reported_to", str, description="YYYY-MM-DD, inclusive"),
    OpenApiParameter("q", str, description="Text in code, title or address"),
]


def _day(value: str, name: str):

    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()  # noqa: DTZ007 - a calendar day, not an instant
    except ValueError:
        raise serializers.ValidationError({name: ["Use YYYY-MM-DD."]}) from None
    if not MIN_DAY <= day <= MAX_DAY:
        raise serializers.ValidationError({name: [f"Between {MIN_DAY} and {MAX_DAY}."]})
    return day


class FileInput(FieldsBuiltOnce, serializers.Serializer):
    title = serializers.CharField(max_length=120)
    category = serializers.CharField(
        max_length=16,
        required=False,
        allow_blank=True,
        default="",
        help_text="小类 code; operators may leave it out to have it chosen from the text by the dispatch model",
    )
    latitude = serializers.FloatField(min_value=-90, max_value=90)
    longitude = serializers.FloatField(min_value=-180, max_value=180)
    description = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    source = serializers.ChoiceField(choices=INTAKE_SOURCES, required=False)
    address = serializers.CharField(required=False, allow_blank=True, max_length=200)
    reporter_name = serializers.CharField(required=False, allow_blank=True, max_length=64)
    reporter_phone = serializers.CharField(required=False, allow_blank=True, max_length=32)
    photos = PhotoField(many=True, required=False, max_length=9)
    fixed_on_spot = serializers.BooleanField(required=False)
    result_note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class EventListCreateView(IdempotentMixin, generics.ListAPIView):
    """Events you may see, newest first (cursor pagination); POST files a new one."""

    serializer_class = EventSerializer
    pagination_class = EventCursor

    def get_queryset(self):
        qs = events_for_user(self.request.user).select_related("category", "grid", "owner_unit", "lead_department")
        qs = qs.prefetch_related("co_departments", "attachments")
        p = self.request.query_params
        if v := p.get("state"):
            if v not in State.values:
                raise serializers.ValidationError({"state": [f"One of {', '.join(State.values)}."]})
            qs = qs.filter(state=v)
        if v := p.get("category"):
            if not Category.objects.filter(code=v).exists():
                raise serializers.ValidationError({"category": [f"Unknown category {v}."]})
            qs = qs.filter(Q(category__code=v) | Q(category__parent__code=v))
        if v := p.get("urgency"):
            if v not in {str(u) for u in Urgency.values}:
                raise serializers.ValidationError({"urgency": ["One of 1, 2, 3."]})
            qs = qs.filter(urgency=int(v))
        if v := p.get("light"):
            if v not in ("green", "yellow", "red"):
                raise serializers.ValidationError({"light": ["One of green, yellow, red."]})
            qs = qs.filter(light=v)
        if v := p.get("owner_tier"):
            if v not in ("1", "2", "3"):
                raise serializers.ValidationError({"owner_tier": ["One of 1, 2, 3."]})
            qs = qs.filter(owner_unit__tier=int(v))
        if v := p.get("source"):
            if v not in Source.values:
                raise serializers.ValidationError({"source": [f"One of {', '.join(Source.values)}."]})
            qs = qs.filter(source=v)
        if v := p.get("within"):
            unit = OrgUnit.objects.filter(code=v).first()
            if unit is None:
                raise serializers.ValidationError({"within": [f"Unknown org unit {v}."]})
            qs = qs.filter(area_path__startswith=unit.path)
        zone = timezone.get_current_timezone()
        if v := p.get("reported_from"):
            qs = qs.filter(reported_at__gte=datetime.combine(_day(v, "reported_from"), time.min, tzinfo=zone))
        if v := p.get("reported_to"):
            end = _day(v, "reported_to")
            qs = qs.filter(reported_at__lt=datetime.combine(end, time.min, tzinfo=zone) + timezone.timedelta(days=1))
        if v := p.get("q"):
            qs = qs.filter(Q(code__icontains=v) | Q(title__icontains=v) | Q(address__icontains=v))
        return qs

    @extend_schema(parameters=EVENT_FILTERS, tags=["events"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=FileInput,
        responses={201: EventSerializer},
        tags=["events"],
    )
    def post(self, request, *args, **kwargs):
        data = FileInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        filed = services.event_file(
            actor=request.user,
            title=v["title"],
            category=v["category"] or None,
            latitude=v["latitude"],
            longitude=v["longitude"],
            description=v.get("description", ""),
            urgency=v.get("urgency"),
            source=v.get("source", Source.OTHER),
            address=v.get("address", ""),
            reporter_name=v.get("reporter_name", ""),
            reporter_phone=v.get("reporter_phone", ""),
            photos=decode_photos(v.get("photos", [])),
            fixed_on_spot=v.get("fixed_on_spot", False),
            result_note=v.get("result_note", ""),
        )
        # The event as written (the filer may see what they filed: no scoped reload, no re-read).
        body = EventSerializer(filed.event, context={"request": request}).data
        body["likely_duplicates"] = [d.event.code for d in filed.duplicates]
        return Response(body, status=201)


class EventDetailSerializer(EventSerializer):
    """One event with its time-limit clocks (a flagged clock's deadline assumed Monday-Friday somewhere)."""

    clocks = ClockSerializer(many=True, read_only=True)

    class Meta(EventSerializer.Meta):
        fields = [*EventSerializer.Meta.fields, "clocks"]


class EventDetailView(APIView):
    @extend_schema(responses={200: EventDetailSerializer}, tags=["events"])
    def get(self, request, code: str):
        event = event_for_user(request.user, code=code)
        return Response(EventDetailSerializer(event, context={"request": request}).data)


class EventHistoryView(APIView):
    @extend_schema(responses={200: RecordSerializer(many=True)}, tags=["events"])
    def get(self, request, code: str):
        event = event_for_user(request.user, code=code)
        records = event.records.select_related("actor", "actor_unit", "actor_department").order_by("seq")
        return Response(RecordSerializer(history_for_user(request.user, records), many=True).data)


class DecisionInput(serializers.Serializer):
    expected_version = serializers.IntegerField(
        required=False, min_value=1, help_text="Refuse with 409 if the event changed."
    )
    approve = serializers.BooleanField()
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class RequestOutput(serializers.ModelSerializer):
    event = serializers.CharField(source="event.code")

    class Meta:
        model = ApprovalRequest
        fields = ["id", "event", "kind", "status", "reason", "data", "requested_at", "decided_at", "decision_note"]


class RequestDecideView(IdempotentMixin, APIView):
    """A supervisor approves or refuses an extension, suspension or invalidation request."""

    @extend_schema(request=DecisionInput, responses={200: RequestOutput}, tags=["lifecycle"])
    def post(self, request, pk: int):
        approval = ApprovalRequest.objects.filter(pk=pk, event__in=events_for_user(request.user)).first()
        if approval is None:
            raise NotFound("No such request.")
        data = DecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        decided = services.request_decide(
            actor=request.user,
            request_id=pk,
            approve=data.validated_data["approve"],
            note=data.validated_data.get("note", ""),
            expected_version=data.validated_data.get("expected_version"),
        )
        return Response(RequestOutput(decided).data)


class PendingRequestsView(generics.ListAPIView):
    """Pending requests on events you may see."""

    serializer_class = RequestOutput

    def get_queryset(self):
        return (
            ApprovalRequest.objects.filter(status="pending", event__in=events_for_user(self.request.user))
            .select_related("event")
            .order_by("id")
        )

    @extend_schema(tags=["lifecycle"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


# --- reference data (no personal data: readable by every signed-in caller)


class CategoryListView(generics.ListAPIView):
    serializer_class = CategorySerializer
    queryset = Category.objects.select_related("parent").order_by("code")

    @extend_schema(tags=["reference"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class OrgUnitListView(generics.ListAPIView):
    serializer_class = OrgUnitSerializer

    def get_queryset(self):
        qs = OrgUnit.objects.select_related("parent").order_by("path")
        if v := self.request.query_params.get("within"):
            unit = OrgUnit.objects.filter(code=v).first()
            if unit is None:
                raise serializers.ValidationError({"within": [f"Unknown org unit {v}."]})
            qs = qs.filter(path__startswith=unit.path)
        if v := self.request.query_params.get("tier"):
            if v not in ("1", "2", "3", "4", "5"):
                raise serializers.ValidationError({"tier": ["One of 1–5."]})
            qs = qs.filter(tier=int(v))
        return qs

    @extend_schema(
        parameters=[OpenApiParameter("within", str), OpenApiParameter("tier", int, enum=[1, 2, 3, 4, 5])],
        tags=["reference"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class DepartmentListView(generics.ListAPIView):
    serializer_class = DepartmentSerializer

    def get_queryset(self):
        qs = Department.objects.select_related("type", "org_unit").order_by("org_unit__path", "type__code")
        if v := self.request.query_params.get("type"):
            qs = qs.filter(type__code=v)
        if v := self.request.query_params.get("org_unit"):
            qs = qs.filter(org_unit__code=v)
        return qs

    @extend_schema(parameters=[OpenApiParameter("type", str), OpenApiParameter("org_unit", str)], tags=["reference"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
