from celery import shared_task

from .outbox import deliver_pending


@shared_task(name="dispatch.deliver_outbox", ignore_result=True)
def deliver_outbox() -> int:
    return deliver_pending()
