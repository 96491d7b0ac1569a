from celery import shared_task

from operations.outbox import deliver_pending


@shared_task(name="dispatch.deliver_outbox", ignore_result=True)
def deliver_outbox() -> int:
    return deliver_pending()


@shared_task(name="dispatch.deliver_webhooks", ignore_result=True)
def deliver_webhooks() -> int:
    from operations.webhooks import deliver_due

    return deliver_due()


@shared_task(name="dispatch.sla_sweep", ignore_result=True)
def sla_sweep() -> dict:
    from dataclasses import asdict

    from operations.sweep import sweep

    return asdict(sweep())
