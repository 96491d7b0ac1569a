"""The WSGI entry point gunicorn loads: the whole URLconf imported and the start-up heap frozen."""

import gc
import importlib


def test_the_wsgi_module_freezes_the_start_up_heap():
    wsgi = importlib.import_module("citygov.wsgi")
    assert callable(wsgi.application)
    # Frozen objects are out of the collector's generations (gc.freeze); start-up leaves >100,000.
    assert gc.get_freeze_count() > 100_000
