"""The Celery application, configured from Django settings (CELERY_* names)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citygov.settings.dev")

app = Celery("citygov")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="citygov.ping")
def ping() -> str:
    """Round trip through broker and worker; used by tests and operators."""
    return "pong"
