"""The WSGI entry point gunicorn loads."""

from __future__ import annotations

import gc
import importlib


def test_what_start_up_loaded_is_left_out_of_garbage_collection() -> None:
    module = importlib.import_module("config.wsgi")
    assert callable(module.application)
    # Django and the apps: far more objects than any request makes.
    assert gc.get_freeze_count() > 10_000
