"""The read cache: often-read API responses (the reviews list, a review's score) rendered
once per viewer until the data they show changes.

A rendered response is stored under the viewer, their roles, the request's path and query,
and the current *generations* of what it shows: the organisation-wide one, and those of its
scopes — a review (`review:<id>`), a person's view of reviews (`person:<user id>`), HR's view
of every review (`hr`), the reviews of one cycle (`cycle:<id>`: its counts and lists on HR's
cycle and health pages). A write moves only what it changed: a rating moves its review and the
views of the people who can read that review, so the rest of the organisation keeps its
entries; a write that touches what every list shows (cycles, teams, people's names, managers,
roles) moves the organisation-wide generation. A write that changes nothing moves nothing.
Every service that writes what those reads show calls `bump(...)` in its transaction; old
entries are never read again and expire. Nothing else moves a generation: no signal, no model
base class.

A generation moves twice per write: at once, so the writing request (and a test inside
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

PREFIX = "levelset:reviews:generation"
EVERYTHING = "all"
ENTRY_TIMEOUT = 600  # seconds; entries of an old generation are never read again


def _key(scope: str) -> str:
    return f"{PREFIX}:{scope}"


def generations(*scopes: str) -> list[int]:
    """The current generation of each scope (one round trip to the cache). A missing counter
    (evicted, or a new cache) starts from the clock, so that it never repeats an earlier
    value."""
    keys = [_key(scope) for scope in scopes]
    found = cache.get_many(keys)
    for key in keys:
        if found.get(key) is None:
            cache.add(key, time.time_ns(), timeout=None)
            found[key] = cache.get(key)
    return [int(found[key]) for key in keys]


def generation() -> int:
    """The organisation-wide generation."""
    return generations(EVERYTHING)[0]


def _advance(keys: list[str]) -> None:
    for key in keys:
        with contextlib.suppress(ValueError):  # no counter yet: the next read starts one
            cache.incr(key)


def bump(*scopes: str) -> None:
    """What the scopes show changed (everything, with none named): move their generations now
    and again once the write commits."""
    keys = [_key(scope) for scope in dict.fromkeys(scopes or [EVERYTHING])]
    _advance(keys)
    transaction.on_commit(lambda: _advance(keys))


def cycle_scope(cycle_id: int) -> str:
    """The scope of one cycle's reviews: every change to one of them moves it."""
    return f"cycle:{cycle_id}"


_MISSING = object()


def cached(name: str, build: Callable[[], Any], *, shows: list[str]) -> Any:
    """`build()`'s value, computed once per generation of what it `shows` (scopes, besides
    everything) and shared by every viewer: for figures that do not depend on who asks."""
    if not settings.LEVELSET_READ_CACHE:
        return build()
    current = ".".join(map(str, generations(EVERYTHING, *shows)))
    key = f"levelset:reviews:{name}:{current}"
    value = cache.get(key, _MISSING)
    if value is _MISSING:
        value = build()
        cache.set(key, value, ENTRY_TIMEOUT)
    return value


def cached_json(
    request: Request, name: str, build: Callable[[], Any], *, shows: list[str]
) -> HttpResponseBase:
    """`build()`'s data as the response, its JSON rendered once per viewer, URL and
    generation of what it `shows` (scopes, besides everything). Other formats (the browsable
    API) are rendered afresh each time."""
    if not settings.LEVELSET_READ_CACHE or type(request.accepted_renderer) is not JSONRenderer:
        return Response(build())
    user = request.user
    viewer = f"{user.pk}:{','.join(sorted(role_names(user)))}"
    # The full URL: paginated bodies hold absolute links to the next and previous pages.
    url = f"{request.build_absolute_uri()} {request.accepted_media_type}"
    url = hashlib.sha256(url.encode()).hexdigest()[:32]
    current = ".".join(map(str, generations(EVERYTHING, *shows)))
    key = f"levelset:reviews:{name}:{current}:{viewer}:{url}"
    content = cache.get(key)
    if content is None:
        content = JSONRenderer().render(build(), request.accepted_media_type)
        cache.set(key, content, ENTRY_TIMEOUT)
    return HttpResponse(content, content_type="application/json")
