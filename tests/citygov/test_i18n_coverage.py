"""The words the code says, in Chinese: not only the .po entries that exist, but every name the
admin and the pages show (apps, models, fields) and every operation's label.

tests/citygov/test_i18n.py checks that the .po has no empty or fuzzy entry; it cannot see a
message the .po never received (a new field or app after the last `makemessages`), which the
Chinese pages then show in English.
"""

from __future__ import annotations

import re

from django.apps import apps
from django.utils import translation
from django.utils.functional import Promise

from incidents.models import ACTION_LABELS
from operations import table

PROJECT_APPS = ("core", "accounts", "incidents", "dispatch", "vitals", "operations", "interfaces")
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN_ON_PURPOSE = {"SHA-256"}


def _in_chinese(text) -> bool:
    """Text marked for translation reads Chinese in a Chinese page (plain strings are not ours to judge)."""
    if not isinstance(text, Promise) or str(text) in LATIN_ON_PURPOSE:
        return True
    with translation.override("zh-hans"):
        return bool(CJK.search(str(text)))


def test_every_app_model_and_field_name_has_chinese():
    missing = []
    for config in apps.get_app_configs():
        if config.name not in PROJECT_APPS:
            continue
        if not _in_chinese(config.verbose_name):
            missing.append(f"app {config.name}: {config.verbose_name}")
        for model in config.get_models():
            for name in (model._meta.verbose_name, model._meta.verbose_name_plural):
                if not _in_chinese(name):
                    missing.append(f"{model.__name__}: {name}")
            for field in model._meta.get_fields():
                # Reverse relations and automatic ids carry no verbose name of ours.
                if field.auto_created or not hasattr(field, "verbose_name"):
                    continue
                if not _in_chinese(field.verbose_name):
                    missing.append(f"{model.__name__}.{field.name}: {field.verbose_name}")
    assert missing == []


def test_every_operation_and_history_action_has_a_chinese_label():
    labels = [op.label for op in table.OPERATIONS]
    labels += [f.label for op in table.OPERATIONS for f in op.inputs.fields]
    labels += list(ACTION_LABELS.values())
    assert [str(label) for label in labels if not _in_chinese(label)] == []
