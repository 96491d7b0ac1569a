"""Celery tasks: thin wrappers that beat and the outbox kicks call. Names are stable wire names."""

from dataclasses import asdict

from celery import shared_task

from dispatch.rollups import refresh
from operations.outbox import DRAIN_TASK, deliver_pending
from operations.sweep import sweep
from operations.webhooks import DELIVERY_TASK, deliver_due


@shared_task(name=DRAIN_TASK, ignore_result=True)
def deliver_outbox() -> int:
    return deliver_pending()


@shared_task(name=DELIVERY_TASK, ignore_result=True)
def deliver_webhooks() -> int:
    return deliver_due()


@shared_task(name="dispatch.sla_sweep", ignore_result=True)
def sla_sweep() -> dict:
    return asdict(sweep())


@shared_task(name="dispatch.rollup_refresh", ignore_result=True)
def rollup_refresh() -> int:
    """Rebuild the report days changed since their roll-up (dispatch.rollups)."""
    return refresh()
