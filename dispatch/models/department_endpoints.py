"""Department systems: where their webhooks go and the secret their own requests are signed with."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _


def _new_secret() -> str:
    """A fresh random shared secret for a newly registered department system."""
    return secrets.token_urlsafe(32)


class DepartmentEndpoint(models.Model):
    """A department's own system: where we send signed webhooks, and the secret its requests are signed with."""

    department = models.OneToOneField(
        "accounts.Department", verbose_name=_("department"), on_delete=models.CASCADE, related_name="endpoint"
    )
    url = models.URLField(_("webhook URL"), blank=True, help_text=_("Empty: inbound API only, no webhooks."))
    secret = models.CharField(_("shared secret"), max_length=128, default=_new_secret)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("department system")
        verbose_name_plural = _("department systems")

    def __str__(self) -> str:
        return f"{self.department} → {self.url or '—'}"
