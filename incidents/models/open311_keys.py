"""API keys of Open311 clients, each allowed to file within one org unit."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import OrgUnit


class Open311Key(models.Model):
    """An API key for an Open311 GeoReport v2 client (a 311 app, another city's system).

    Only a SHA-256 of the key is stored; the key itself is shown once, when issued.
    """

    name = models.CharField(_("client name"), max_length=100)
    prefix = models.CharField(_("key prefix"), max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    jurisdiction = models.ForeignKey(
        OrgUnit,
        verbose_name=_("may file within"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Requests outside this unit are refused."),
    )
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 API key")
        verbose_name_plural = _("Open311 API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def open311_key_id(self) -> int:
        return self.pk
