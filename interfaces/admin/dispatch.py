from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from dispatch.models import (
    DeliveryStatus,
    DepartmentEndpoint,
    Notification,
    OutboxMessage,
    RoutingRule,
    RoutingSuggestion,
    SlaClock,
    SlaPolicy,
    WebhookDelivery,
)
from dispatch.routing import simulate
from interfaces.admin.incidents import EventScopedAdmin
from interfaces.admin.simulation_form import SimulationForm
from operations import outbox


class DeliveryFilter(admin.SimpleListFilter):
    """Pending, delivered or dead letter (死信): the three places a message can be."""

    title = _("delivery")
    parameter_name = "delivery"

    def lookups(self, request, model_admin):
        return [("pending", _("Pending")), ("delivered", _("Delivered")), ("dead", _("Dead letters"))]

    def queryset(self, request, queryset):
        if self.value() == "pending":
            return queryset.filter(processed_at__isnull=True, dead_at__isnull=True)
        if self.value() == "delivered":
            return queryset.filter(processed_at__isnull=False)
        if self.value() == "dead":
            return queryset.filter(dead_at__isnull=False, processed_at__isnull=True)
        return queryset


@admin.register(OutboxMessage)
class OutboxMessageAdmin(EventScopedAdmin):
    list_display = ("id", "topic", "event", "created_at", "processed_at", "dead_at", "attempts", "error")
    list_filter = (DeliveryFilter, "topic")
    search_fields = ("topic", "event__code")
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
    actions = ["retry_dead_letters"]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("last error"))
    def error(self, obj: OutboxMessage) -> str:
        return Truncator(obj.last_error).chars(160)

    @admin.action(description=_("Send the selected dead letters again"), permissions=["change"])
    def retry_dead_letters(self, request, queryset):
        dead = list(outbox.dead_letters().filter(pk__in=queryset.values("pk")))
        count = outbox.retry_dead_letters(m.pk for m in dead)
        for message in dead:
            self.log_change(
                request,
                message,
                gettext("Sent again after %(n)d failed attempts: %(error)s")
                % {"n": message.attempts, "error": message.last_error[:200]},
            )
        if count:
            self.message_user(
                request,
                ngettext(
                    "%(n)d dead letter will be delivered again.", "%(n)d dead letters will be delivered again.", count
                )
                % {"n": count},
                messages.SUCCESS,
            )
        else:
            self.message_user(request, gettext("None of the selected messages is a dead letter."), messages.WARNING)


@admin.register(Notification)
class NotificationAdmin(EventScopedAdmin):
    list_display = ("user", "kind", "text", "event", "created_at", "read_at")
    list_filter = ("kind", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("user__username", "text", "event__code")
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = (
        "priority",
        "name",
        "category",
        "region",
        "target_kind",
        "department_type",
        "department",
        "mode",
        "is_active",
    )
    list_display_links = ("name",)
    list_filter = ("is_active", "mode", "target_kind", "day_type", "department_type")
    search_fields = ("name", "category__name", "category__code", "keywords")
    autocomplete_fields = ["region", "department"]
    filter_horizontal = ["co_handler_types"]
    list_select_related = ("category", "region", "department_type", "department")
    fieldsets = (
        (None, {"fields": ("name", "priority", "mode", "is_active")}),
        (
            _("When"),
            {
                "fields": (
                    "category",
                    "region",
                    "urgencies",
                    "sources",
                    ("time_from", "time_to"),
                    "day_type",
                    "keywords",
                )
            },
        ),
        (_("Who"), {"fields": ("target_kind", "department_type", "highest_tier", "department", "co_handler_types")}),
    )
    change_list_template = "admin/dispatch/routingrule/change_list.html"

    def get_urls(self):
        return [
            path("simulate/", self.admin_site.admin_view(self.simulate_view), name="dispatch_routingrule_simulate"),
            *super().get_urls(),
        ]

    def simulate_view(self, request):
        form = SimulationForm(request.GET or None)
        decision = None
        if form.is_valid():
            data = form.cleaned_data
            try:
                decision = simulate(
                    category=data["category"],
                    latitude=data["latitude"],
                    longitude=data["longitude"],
                    urgency=data["urgency"],
                    source=data["source"],
                    at=data["at"],
                    text=data["text"],
                )
            except ValidationError as exc:
                form.add_error("latitude", exc.message_dict.get("location", exc.messages))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "decision": decision,
        }
        return TemplateResponse(request, "admin/dispatch/routingrule/simulate.html", context)


@admin.register(RoutingSuggestion)
class RoutingSuggestionAdmin(EventScopedAdmin):
    list_display = ("event", "department", "rule", "created_at")
    search_fields = ("event__code",)
    readonly_fields = ("event", "rule", "department", "co_departments", "created_at")

    def has_add_permission(self, request):
        return False


class DeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    fields = ("message", "status", "attempts", "last_status_code", "next_attempt_at", "delivered_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(DepartmentEndpoint)
class DepartmentEndpointAdmin(admin.ModelAdmin):
    list_display = ("department", "url", "is_active")
    list_filter = ("is_active",)
    search_fields = ("department__name", "department__code", "url")
    autocomplete_fields = ["department"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(EventScopedAdmin):
    """The delivery log: every attempt's outcome, per department system."""

    event_path = "message__event"

    list_display = (
        "id",
        "endpoint",
        "topic",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ("status", ("endpoint__department", admin.RelatedOnlyFieldListFilter))
    search_fields = ("message__event__code", "endpoint__department__name", "last_error")
    list_select_related = ("endpoint__department", "message")
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = ["retry_now"]

    @admin.display(description=_("topic"))
    def topic(self, obj):
        return obj.message.topic

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Retry now"))
    def retry_now(self, request, queryset):
        count = queryset.exclude(status=DeliveryStatus.DELIVERED).update(
            status=DeliveryStatus.PENDING, next_attempt_at=timezone.now()
        )
        self.message_user(request, _("%(n)d deliveries will be retried.") % {"n": count})


# Calendars (working periods, days, the known-through warnings) live in calendar_admin.


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ("step", "category", "urgency", "limit", "unit", "yellow_ratio")
    list_filter = ("step", "unit", "urgency")
    search_fields = ("category__name", "category__code")
    autocomplete_fields = ["category"]


@admin.register(SlaClock)
class SlaClockAdmin(EventScopedAdmin):
    list_display = (
        "event",
        "step",
        "light",
        "started_at",
        "due_at",
        "original_due_at",
        "stopped_at",
        "breached_at",
        "calendar_unknown",
    )
    list_filter = ("step", "light", "calendar_unknown", ("stopped_at", admin.EmptyFieldListFilter))
    search_fields = ("event__code",)
    list_select_related = ("event",)
    readonly_fields = [f.name for f in SlaClock._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
