"""The production stack (tests/deploy/stack.py), started once per module that asks for it."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests.deploy import stack as stack_module


def start_stack(*, caddy: bool):
    why = stack_module.missing(caddy=caddy)
    if why:
        if stack_module.required():  # .ci/run's PostgreSQL step: these must run there
            pytest.fail(f"the production smoke cannot run: {why}")
        pytest.skip(why)
    root = Path(tempfile.mkdtemp(prefix="citygov-prodsmoke-"))
    stack = stack_module.ProdStack(root, through_caddy=caddy)
    try:
        stack.start()
    except BaseException:
        stack.stop()
        raise
    return stack, root


@pytest.fixture(scope="module")
def caddy_stack():
    stack, root = start_stack(caddy=True)
    yield stack
    stack.stop()
    shutil.rmtree(root, ignore_errors=True)
