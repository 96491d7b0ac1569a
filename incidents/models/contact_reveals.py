"""The log of who saw a reporter's full contact details, and why."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .events import Event


class ContactReveal(models.Model):
    """Each time someone saw a reporter's full contact details (数据回流: personal data is masked by default)."""

    event = models.ForeignKey(Event, verbose_name=_("event"), on_delete=models.PROTECT, related_name="contact_reveals")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    revealed_at = models.DateTimeField(_("revealed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("contact reveal")
        verbose_name_plural = _("contact reveals")
        ordering = ["-revealed_at"]

    def __str__(self) -> str:
        return f"{self.user} · {self.event_id} · {self.revealed_at:%Y-%m-%d %H:%M}"
