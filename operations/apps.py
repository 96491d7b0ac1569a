from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperationsConfig(AppConfig):
    """The operations: one service per lifecycle operation, the sweep, tasks and outbox handlers."""

    name = "operations"
    verbose_name = _("Operations")

    def ready(self) -> None:
        # Importing the handler modules registers them with the outbox drain.
        from operations import notifications, webhooks  # noqa: F401
