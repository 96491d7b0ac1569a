"""Per-category switch for dispatch by the learned model (智能分拨自动派发): off unless an admin turns it on."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class ModelDispatchThreshold(models.Model):
    """At intake, when no routing rule decided, the model dispatches an event of this category by itself
    if its confidence in the department reaches the threshold; below it, it only suggests."""

    category = models.OneToOneField(
        "incidents.Category",
        verbose_name=_("category"),
        on_delete=models.CASCADE,
        related_name="model_threshold",
        limit_choices_to={"parent__isnull": False},
    )
    is_enabled = models.BooleanField(_("auto-dispatch by the model"), default=False)
    threshold = models.FloatField(
        _("confidence threshold"),
        default=0.9,
        validators=[MinValueValidator(0.5), MaxValueValidator(1.0)],
        help_text=_("Between 0.5 and 1. The model dispatches by itself at or above it."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("model dispatch threshold")
        verbose_name_plural = _("model dispatch thresholds")

    def __str__(self) -> str:
        return f"{self.category} ≥ {self.threshold:.2f}" + ("" if self.is_enabled else " (off)")
