"""The composite score's weights (综合评价权重), editable by an admin; dispatch.scores does the arithmetic."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from dispatch.scores import Indicator, ScoreTarget


class IndicatorWeight(models.Model):
    """One indicator's weight in the score of departments or of regions.

    No row at all for a target means the documented defaults (dispatch.scores.DEFAULT_WEIGHTS);
    once a target has rows, an indicator without a row weighs nothing.
    """

    applies_to = models.CharField(_("applies to"), max_length=16, choices=ScoreTarget.choices)
    indicator = models.CharField(_("indicator"), max_length=32, choices=Indicator.choices)
    weight = models.DecimalField(
        _("weight"),
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(1000)],
        help_text=_(
            "Relative weight; the score is 100 × Σ weight × value ÷ Σ weight over the indicators the row has. "
            "GB/T 30428.4 and CJ/T 292 define the indicators but give no numeric weights we can cite: the "
            "defaults (按期 40, 结案/处置 30 for departments and 40 for regions, 返工 20, 退回 10 for "
            "departments) are this project's; set your city's 考核办法 here. 0 leaves an indicator out."
        ),
    )

    class Meta:
        verbose_name = _("indicator weight")
        verbose_name_plural = _("indicator weights")
        ordering = ["applies_to", "indicator"]
        constraints = [
            models.UniqueConstraint(fields=["applies_to", "indicator"], name="indicator_weight_once_per_target")
        ]

    def __str__(self) -> str:
        return f"{self.get_applies_to_display()} · {self.get_indicator_display()}: {self.weight}"
