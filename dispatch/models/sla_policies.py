"""Time-limit policies (时限): the limit of each step by category and urgency, and its unit."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class SlaStep(models.TextChoices):
    DISPATCH = "dispatch", _("dispatch")
    ACCEPT = "accept", _("accept")
    HANDLE = "handle", _("handle")
    VERIFY = "verify", _("verify")
    CLOSE = "close", _("close")
    OVERALL = "overall", _("overall")


class TimeUnit(models.TextChoices):
    WORKING_HOURS = "working_hours", _("working hours")
    WORKING_DAYS = "working_days", _("working days")
    NATURAL_HOURS = "natural_hours", _("natural hours")


class SlaPolicy(models.Model):
    """A time limit for one step, by category (小类 or 大类, empty = any) and urgency (empty = any).

    The most specific policy applies: subclass before class before default,
    a named urgency before "any".
    """

    category = models.ForeignKey(
        "incidents.Category", verbose_name=_("category"), null=True, blank=True, on_delete=models.CASCADE
    )
    urgency = models.PositiveSmallIntegerField(
        _("urgency"), null=True, blank=True, choices=[(1, _("normal")), (2, _("urgent")), (3, _("critical"))]
    )
    step = models.CharField(_("step"), max_length=16, choices=SlaStep.choices)
    limit = models.DecimalField(_("limit"), max_digits=7, decimal_places=2)
    unit = models.CharField(_("unit"), max_length=16, choices=TimeUnit.choices, default=TimeUnit.WORKING_HOURS)
    yellow_ratio = models.DecimalField(
        _("yellow at"), max_digits=3, decimal_places=2, default=0.8, help_text=_("Share of the limit used, e.g. 0.80.")
    )

    class Meta:
        verbose_name = _("time-limit policy")
        verbose_name_plural = _("time-limit policies")
        ordering = ["step", "category__code", "urgency"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "urgency", "step"], name="sla_policy_unique", nulls_distinct=False
            ),
            models.CheckConstraint(condition=Q(limit__gt=0), name="sla_policy_positive_limit"),
            models.CheckConstraint(condition=Q(yellow_ratio__gt=0, yellow_ratio__lt=1), name="sla_policy_yellow_ratio"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_step_display()} · {self.category or _('any category')} · {self.limit} {self.get_unit_display()}"
        )
