from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DispatchConfig(AppConfig):
    name = "dispatch"
    verbose_name = _("Dispatch, routing and time limits")

    def ready(self) -> None:
        from . import calendar, notifications, webhooks  # noqa: F401 - register the outbox handlers

        calendar._connect()
