from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DispatchConfig(AppConfig):
    name = "dispatch"
    verbose_name = _("Dispatch, routing and time limits")

    def ready(self) -> None:
        from dispatch import calendar, rollups

        calendar._connect()
        rollups.connect()  # every write to an event, its history or its clocks marks its report day
        self._forget_cached_reference_data_on_change()

    @staticmethod
    def _forget_cached_reference_data_on_change() -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from accounts.models import Department, OrgUnit
        from accounts.signals import org_units_bulk_changed
        from dispatch.models import RoutingRule, SlaPolicy
        from dispatch.routing import forget_cached_rules
        from dispatch.sla import forget_cached_policies
        from incidents.models import Category

        for model in (RoutingRule, Department, Category, OrgUnit):
            post_save.connect(forget_cached_rules, sender=model, dispatch_uid=f"routing-cache-{model.__name__}-save")
            post_delete.connect(forget_cached_rules, sender=model, dispatch_uid=f"routing-cache-{model.__name__}-del")
        org_units_bulk_changed.connect(forget_cached_rules, dispatch_uid="routing-cache-bulk-units")
        m2m_changed.connect(
            forget_cached_rules, sender=RoutingRule.co_handler_types.through, dispatch_uid="routing-cache-co-types"
        )
        post_save.connect(forget_cached_policies, sender=SlaPolicy, dispatch_uid="sla-cache-save")
        post_delete.connect(forget_cached_policies, sender=SlaPolicy, dispatch_uid="sla-cache-delete")
