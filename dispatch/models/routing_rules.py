"""Routing rules (which department handles what, where and when) and the suggestions they make."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from dispatch.choices import DayType, RoutingMode, TargetKind
from dispatch.rule_checks import validate_rule


class RoutingRule(models.Model):
    """Chooses the responsible department for an event.

    Empty conditions match everything. Among matching rules the lowest
    priority number wins; two rules that could match one event at the same
    priority are refused when saved, so the winner is always unique.
    """

    name = models.CharField(_("name"), max_length=100)
    priority = models.PositiveIntegerField(_("priority"), help_text=_("Lower numbers win."))
    is_active = models.BooleanField(_("active"), default=True)
    mode = models.CharField(_("mode"), max_length=16, choices=RoutingMode.choices, default=RoutingMode.SUGGEST)

    category = models.ForeignKey(
        "incidents.Category",
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("A subclass (小类) or a whole major class (大类); empty = any."),
    )
    region = models.ForeignKey(
        "accounts.OrgUnit",
        verbose_name=_("region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("This unit and everything inside it; empty = the whole city."),
    )
    urgencies = models.JSONField(_("urgencies"), default=list, blank=True, help_text=_("Empty = any."))
    sources = models.JSONField(_("sources"), default=list, blank=True, help_text=_("Empty = any."))
    time_from = models.TimeField(_("from (time of day)"), null=True, blank=True)
    time_to = models.TimeField(
        _("until (time of day)"), null=True, blank=True, help_text=_("May wrap past midnight, e.g. 22:00–06:00.")
    )
    day_type = models.CharField(_("day type"), max_length=16, choices=DayType.choices, default=DayType.ANY)
    keywords = models.CharField(
        _("keywords"), max_length=200, blank=True, help_text=_("Any of these words in the title or description.")
    )

    target_kind = models.CharField(_("target"), max_length=16, choices=TargetKind.choices, default=TargetKind.RELATIVE)
    department_type = models.ForeignKey(
        "accounts.DepartmentType",
        verbose_name=_("department type"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    highest_tier = models.PositiveSmallIntegerField(
        _("search from tier"),
        choices=[(1, _("city")), (2, _("district")), (3, _("street / town")), (4, _("community"))],
        default=3,
        help_text=_("Look for the department at this tier first, then in each enclosing unit above it."),
    )
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("named department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    co_handler_types = models.ManyToManyField(
        "accounts.DepartmentType", verbose_name=_("co-handler types"), blank=True, related_name="+"
    )

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return f"[{self.priority}] {self.name}"

    def clean(self) -> None:
        others = RoutingRule.objects.filter(is_active=True, priority=self.priority).select_related("category", "region")
        validate_rule(self, others.exclude(pk=self.pk) if self.pk else others)


class RoutingSuggestion(models.Model):
    """What routing proposed for an event that a rule in suggest mode matched."""

    event = models.OneToOneField(
        "incidents.Event", verbose_name=_("event"), on_delete=models.CASCADE, related_name="routing_suggestion"
    )
    rule = models.ForeignKey(RoutingRule, verbose_name=_("rule"), null=True, on_delete=models.SET_NULL)
    department = models.ForeignKey(
        "accounts.Department", verbose_name=_("department"), on_delete=models.CASCADE, related_name="+"
    )
    co_departments = models.ManyToManyField("accounts.Department", blank=True, related_name="+")
    # Set when the learned model (not a rule) proposed it: its confidence, below the auto-dispatch threshold.
    confidence = models.FloatField(_("model confidence"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("routing suggestion")
        verbose_name_plural = _("routing suggestions")

    def __str__(self) -> str:
        return f"{self.event} → {self.department}"
