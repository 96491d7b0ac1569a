"""The admin of city vital signs: indicators, sensors, inhibitions and silences are configuration; warnings
and their history are read-only (they change only as readings arrive). A staff user sees the sensors and
warnings of their jurisdiction (vitals.selectors), as everywhere else."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from vitals.models import Indicator, Inhibition, Sensor, Silence, VitalWarning, WarningRecord
from vitals.selectors import sensors_for_user, warnings_for_user


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "domain", "group", "unit", "direction", "thresholds", "for_minutes", "event_level",
                    "category", "is_active")  # fmt: skip
    list_filter = ("domain", "direction", "event_level", "is_active")
    search_fields = ("code", "name", "domain", "group")
    list_select_related = ("category",)
    autocomplete_fields = ("category",)
    fieldsets = (
        (None, {"fields": ("code", "name", "domain", "group", "unit", "is_active")}),
        (_("Warning rule"), {"fields": ("direction", "thresholds", "for_minutes", "recovery", "nodata_minutes")}),
        (_("Work orders"), {"fields": ("category", "event_level", "group_minutes", "source_note")}),
    )


@admin.register(Sensor)
class SensorAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "indicator", "grid", "owner_department", "last_at", "last_value", "last_seen_at",
                    "is_active")  # fmt: skip
    list_filter = ("is_active", "is_virtual", ("indicator", admin.RelatedOnlyFieldListFilter))
    search_fields = ("code", "name")
    list_select_related = ("indicator", "grid", "owner_department")
    readonly_fields = ("grid", "last_at", "last_value", "last_seen_at")
    autocomplete_fields = ("owner_department",)

    def get_queryset(self, request):
        return sensors_for_user(request.user, super().get_queryset(request))


class WarningRecordInline(admin.TabularInline):
    model = WarningRecord
    fields = ("action", "at", "level", "from_level", "value", "data", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(VitalWarning)
class VitalWarningAdmin(admin.ModelAdmin):
    list_display = ("id", "sensor", "indicator", "kind", "level", "state", "started_at", "fired_at", "resolved_at",
                    "peak_value", "event", "muted")  # fmt: skip
    list_filter = ("state", "level", "kind", ("indicator", admin.RelatedOnlyFieldListFilter))
    search_fields = ("sensor__code", "event__code")
    list_select_related = ("sensor", "indicator", "event")
    inlines = [WarningRecordInline]
    readonly_fields = [f.name for f in VitalWarning._meta.fields]

    def get_queryset(self, request):
        return warnings_for_user(request.user, super().get_queryset(request))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Inhibition)
class InhibitionAdmin(admin.ModelAdmin):
    list_display = ("name", "source", "source_level", "target", "scope_tier", "is_active")
    list_filter = ("is_active", "scope_tier")


@admin.register(Silence)
class SilenceAdmin(admin.ModelAdmin):
    list_display = ("reason", "indicator", "sensor", "area", "starts_at", "ends_at", "created_by")
    list_filter = ("indicator",)
    search_fields = ("reason",)
    autocomplete_fields = ("sensor", "area")
    readonly_fields = ("created_by",)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
