"""The read cache: often-read API responses (the reviews list, a review's score) rendered
once per viewer until the data they show changes.

A rendered response is stored under the viewer, their roles, the request's path and query,
and the current *generation* of review data. Every service that writes what those reads show
— reviews, ratings, evidence, engineers and their managers, teams, cycles, people's names —
calls `bump()` in its transaction, so the next read renders afresh; old entries are never
read again and expire. Nothing else moves the generation: no signal, no model base class.

The generation moves twice per write: at once, so the writing request (and a test inside
one transaction) reads its own change, and again after commit, so that a read which rendered
the old rows between the two is never served.

With several server processes the cache must be shared (CACHE_URL, Redis): a per-process
cache would keep serving what another process's write made stale. `check --deploy` says so.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse, HttpResponseBase
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from core.roles import role_names

GENERATION_KEY = "levelset:reviews:generation"
ENTRY_TIMEOUT = 600  # seconds; entries of an old generation are never read again


def generation() -> int:
    """The current generation. A missing counter (evicted, or a new cache) starts from the
    clock, so that it never repeats an earlier value."""
    value = cache.get(GENERATION_KEY)
    if value is None:
        cache.add(GENERATION_KEY, time.time_ns(), timeout=None)
        value = cache.get(GENERATION_KEY)
    return int(value)


def _advance() -> None:
    with contextlib.suppress(ValueError):  # no counter yet: the next read starts one
        cache.incr(GENERATION_KEY)


def bump() -> None:
    """Review data changed: move the generation now and again once the write commits."""
    _advance()
    transaction.on_commit(_advance)


def cached_json(request: Request, scope: str, build: Callable[[], Any]) -> HttpResponseBase:
    """`build()`'s data as the response, its JSON rendered once per viewer, URL and
    generation. Other formats (the browsable API) are rendered afresh each time."""
    if not settings.LEVELSET_READ_CACHE or type(request.accepted_renderer) is not JSONRenderer:
        return Response(build())
    user = request.user
    viewer = f"{user.pk}:{','.join(sorted(role_names(user)))}"
    # The full URL: paginated bodies hold absolute links to the next and previous pages.
    url = f"{request.build_absolute_uri()} {request.accepted_media_type}"
    url = hashlib.sha256(url.encode()).hexdigest()[:32]
    key = f"levelset:reviews:{scope}:{generation()}:{viewer}:{url}"
    content = cache.get(key)
    if content is None:
        content = JSONRenderer().render(build(), request.accepted_media_type)
        cache.set(key, content, ENTRY_TIMEOUT)
    return HttpResponse(content, content_type="application/json")
