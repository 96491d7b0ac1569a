"""The routing rules' choices, apart from the models so rule checks can use them without a cycle."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DayType(models.TextChoices):
    ANY = "any", _("any day")
    WORKING = "working", _("working days")
    REST = "rest", _("rest days and holidays")


class RoutingMode(models.TextChoices):
    AUTO = "auto", _("dispatch automatically")
    SUGGEST = "suggest", _("suggest to the operator")


class TargetKind(models.TextChoices):
    RELATIVE = "relative", _("department of a type, in the nearest enclosing unit that has one")
    NAMED = "named", _("a named department")
