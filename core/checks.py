"""System checks for deployment."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks


def read_cache_is_shared(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    backend = settings.CACHES["default"]["BACKEND"]
    if settings.LEVELSET_READ_CACHE and backend.endswith("LocMemCache"):
        return [
            checks.Warning(
                "The review read cache is per process: with several server processes, a write "
                "in one leaves the others serving stale reviews.",
                hint="Set CACHE_URL to a Redis URL, or LEVELSET_READ_CACHE=false.",
                id="core.W001",
            )
        ]
    return []


def register() -> None:
    checks.register(read_cache_is_shared, checks.Tags.caches, deploy=True)
