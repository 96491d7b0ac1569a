"""Celery tasks: thin wrappers that beat and the outbox kicks call. Names are stable wire names."""

from dataclasses import asdict

from celery import shared_task
from django.conf import settings

from dispatch.learning.store import save
from dispatch.learning.training import train
from dispatch.rollups import refresh
from operations.outbox import DRAIN_TASK, deliver_pending
from operations.sweep import sweep
from operations.vitals_sweep import civic_demand, nodata_sweep, readings_upkeep
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


@shared_task(name="vitals.nodata_sweep", ignore_result=True)
def vitals_nodata_sweep() -> int:
    return nodata_sweep()


@shared_task(name="vitals.civic_demand", ignore_result=True)
def vitals_civic_demand() -> dict:
    received = civic_demand()
    return received.as_dict() if received is not None else {}


@shared_task(name="vitals.readings_upkeep", ignore_result=True)
def vitals_readings_upkeep() -> dict:
    return asdict(readings_upkeep())


@shared_task(name="dispatch.train_dispatch_model", ignore_result=True)
def train_dispatch_model() -> dict:
    """Weekly: retrain the smart-dispatch model on the history as it now is, and store it (processes reload it)."""
    trained = train(max_events=settings.DISPATCH_TRAIN_MAX_EVENTS)
    save(trained)
    return {"events": trained.meta["events"], "evaluation": trained.meta["evaluation"]}
