from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Tiers, departments and people")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from . import grid_index  # noqa: F401 - connects the signal that rebuilds the grid index
        from .models import OrgUnit
        from .selectors import forget_cached_roots

        post_save.connect(forget_cached_roots, sender=OrgUnit, dispatch_uid="org-roots-save")
        post_delete.connect(forget_cached_roots, sender=OrgUnit, dispatch_uid="org-roots-delete")
