from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = _("Events")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from incidents.models import Category
        from incidents.reference import forget_cached_categories

        post_save.connect(forget_cached_categories, sender=Category, dispatch_uid="category-cache-save")
        post_delete.connect(forget_cached_categories, sender=Category, dispatch_uid="category-cache-delete")
