"""Periodic work of the project package itself (Celery finds this module through autodiscovery)."""

from celery import shared_task

from interfaces.idempotency import purge_expired


@shared_task(name="citygov.purge_idempotency_keys", ignore_result=True)
def purge_idempotency_keys() -> int:
    """Delete Idempotency-Key rows older than their 48 hours; returns how many went."""
    return purge_expired()
