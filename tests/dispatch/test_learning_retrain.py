"""The weekly retraining: a beat entry and a task that trains and stores the model."""

import json
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from operations.tasks import train_dispatch_model

pytestmark = pytest.mark.django_db


def test_beat_retrains_weekly():
    entry = django_settings.CELERY_BEAT_SCHEDULE["train-dispatch-model"]
    assert entry["task"] == "dispatch.train_dispatch_model"
    assert entry["schedule"].day_of_week == {1} and entry["schedule"].hour == {3}


def test_the_task_trains_and_stores(settings, tmp_path):
    settings.DISPATCH_MODEL_PATH = str(tmp_path / "models" / "dispatch.joblib")
    result = train_dispatch_model()
    assert result["events"] == 0  # the test city has no history: the catalogue starts the model
    meta = json.loads(Path(settings.DISPATCH_MODEL_PATH).with_suffix(".json").read_text(encoding="utf-8"))
    assert meta["kind"] == "catalogue" and meta["categories"] == 60 and meta["trained_at"]
