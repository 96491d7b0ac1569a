"""docs/ARCHITECTURE.md and docs/PERMISSIONS.md name modules, functions and files a newcomer will
look for: each must exist (a renamed module or a moved function leaves the doc pointing nowhere)."""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path

import pytest
from celery import current_app
from django.apps import apps

import interfaces.tasks  # noqa: F401  (registers the tasks the doc names)
import operations.tasks  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
DOCS = ("docs/ARCHITECTURE.md", "docs/PERMISSIONS.md")
FLOORS = ("core", "accounts", "incidents", "dispatch", "vitals", "operations", "interfaces", "fixtures", "citygov")
DOTTED = re.compile(rf"`((?:{'|'.join(FLOORS)})(?:\.\w+)+)`")
PATH = re.compile(rf"`((?:{'|'.join(FLOORS)}|tests|docs|locale)/[\w./]*|\.importlinter|[\w-]+\.(?:toml|yaml|cfg|ini))`")


def _resolves(name: str) -> bool:
    """A module (without importing it: production settings need their environment), an attribute
    of one, or a model as `app_label.Model`."""
    try:
        if importlib.util.find_spec(name):
            return True
    except ImportError:  # the parent is a module, not a package: `name` is an attribute of it
        pass
    if name.count(".") == 1:
        try:
            apps.get_model(name)
            return True
        except LookupError:
            pass
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return False
        return True
    return False


@pytest.mark.parametrize("doc", DOCS)
def test_every_dotted_name_in_the_doc_exists(doc):
    text = (ROOT / doc).read_text()
    tasks = set(current_app.tasks)  # task names read like modules (`dispatch.sla_sweep`)
    names = {n for n in DOTTED.findall(text) if not n.endswith(".py")}  # `dispatch.py`: a file in a table
    assert names
    assert sorted(n for n in names if n not in tasks and not _resolves(n)) == []


@pytest.mark.parametrize("doc", DOCS)
def test_every_path_in_the_doc_exists(doc):
    text = (ROOT / doc).read_text()
    paths = set(PATH.findall(text))
    assert paths
    assert sorted(p for p in paths if not (ROOT / p).exists()) == []
