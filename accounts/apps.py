from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Tiers, departments and people")

    def ready(self) -> None:
        from accounts import grid_index  # noqa: F401 - connects the signal that rebuilds the grid index
