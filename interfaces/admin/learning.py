"""Admin for smart dispatch: the per-category switch and threshold of dispatch by the model (off by default)."""

from django.contrib import admin

from dispatch.models import ModelDispatchThreshold


@admin.register(ModelDispatchThreshold)
class ModelDispatchThresholdAdmin(admin.ModelAdmin):
    list_display = ("category", "is_enabled", "threshold", "updated_at")
    list_editable = ("is_enabled", "threshold")
    list_filter = ("is_enabled",)
    search_fields = ("category__code", "category__name")
    autocomplete_fields = ["category"]
