"""The tables the policies read and the operations write: routing, time limits, calendars, outbox, webhooks.

One idea per module; every public name is re-exported here so `from dispatch.models import X`
reads the same everywhere. The modules are imported in the order the models were always
declared in, so the app registry (and everything that walks it) sees them in that order.
"""

from dispatch.choices import DayType, RoutingMode, TargetKind

# Declaration order (see above), not alphabetical:
# isort: off
from .outbox_messages import OutboxMessage
from .notifications import Notification
from .routing_rules import RoutingRule, RoutingSuggestion
from .department_endpoints import DepartmentEndpoint, _new_secret
from .webhook_deliveries import DeliveryStatus, WebhookDelivery
from .business_calendars import BusinessCalendar, CalendarDay, WorkingPeriod
from .sla_policies import SlaPolicy, SlaStep, TimeUnit
from .sla_clocks import Light, SlaClock
from .rollups import DailyRollup, MonthlyRollup, RollupDay, RollupKind, RollupMark, RollupMonth
from .indicator_weights import IndicatorWeight
from .model_thresholds import ModelDispatchThreshold
# isort: on

__all__ = [
    "BusinessCalendar",
    "CalendarDay",
    "DailyRollup",
    "DayType",
    "DeliveryStatus",
    "DepartmentEndpoint",
    "IndicatorWeight",
    "Light",
    "ModelDispatchThreshold",
    "MonthlyRollup",
    "Notification",
    "OutboxMessage",
    "RollupDay",
    "RollupKind",
    "RollupMark",
    "RollupMonth",
    "RoutingMode",
    "RoutingRule",
    "RoutingSuggestion",
    "SlaClock",
    "SlaPolicy",
    "SlaStep",
    "TargetKind",
    "TimeUnit",
    "WebhookDelivery",
    "WorkingPeriod",
    "_new_secret",  # named by migration 0004 as dispatch.models._new_secret
]
