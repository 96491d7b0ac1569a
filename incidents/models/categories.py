"""The catalogue of problems: categories (大类 and 小类), their kind and default urgency."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class Urgency(models.IntegerChoices):
    NORMAL = 1, _("normal")
    URGENT = 2, _("urgent")
    CRITICAL = 3, _("critical")


class CategoryKind(models.TextChoices):
    EVENT = "event", _("event (事件)")
    COMPONENT = "component", _("component (部件)")


class Category(models.Model):
    """Two levels: a major class (大类, no parent) and its subclasses (小类)."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=64)
    name_en = models.CharField(_("English name"), max_length=64, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=CategoryKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("major class"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="subcategories",
        limit_choices_to={"parent__isnull": True},
    )
    default_urgency = models.PositiveSmallIntegerField(
        _("default urgency"), choices=Urgency.choices, default=Urgency.NORMAL
    )
    keywords = models.CharField(_("search keywords"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_major(self) -> bool:
        return self.parent_id is None

    def clean(self) -> None:
        if self.parent_id:
            if self.parent.parent_id:
                raise ValidationError({"parent": _("Categories have two levels: the parent must be a major class.")})
            if self.parent.kind != self.kind:
                raise ValidationError({"kind": _("A subclass has the kind of its major class.")})
            if not self.code.startswith(self.parent.code):
                raise ValidationError({"code": _("A subclass code starts with its major class code.")})
