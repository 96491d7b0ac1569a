"""The composite score's weights (综合评价权重): one row per target and indicator, the formula shown beside."""

from django.contrib import admin

from dispatch.models import IndicatorWeight
from dispatch.ranking import weights_for
from dispatch.scores import ScoreTarget, formula_text


@admin.register(IndicatorWeight)
class IndicatorWeightAdmin(admin.ModelAdmin):
    change_list_template = "admin/dispatch/indicatorweight/change_list.html"
    list_display = ("applies_to", "indicator", "weight")
    list_editable = ("weight",)
    list_filter = ("applies_to",)
    ordering = ("applies_to", "indicator")

    def changelist_view(self, request, extra_context=None):
        # The formula each target's weights make today, above the list (the ranking page prints the same).
        formulas = [(label, formula_text(weights_for(target))) for target, label in ScoreTarget.choices]
        extra_context = {**(extra_context or {}), "formulas": formulas}
        return super().changelist_view(request, extra_context=extra_context)
