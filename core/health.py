"""`/healthz`: what a load balancer asks before it sends a server process any traffic.

It answers 200 when the database answers a trivial query and Redis (the Celery broker, when
REDIS_URL is set) answers PING, and 503 naming the check that failed otherwise. The answer
never carries a URL, a host name or an exception's text: whoever can reach the load balancer's
address can read it. The detail goes to the log instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger("levelset.health")

# A load balancer checks every few seconds and gives up after a few more: an unreachable Redis
# must fail the check quickly rather than hold a server thread until the balancer times out.
REDIS_TIMEOUT_SECONDS = 1.0

OK = "ok"
FAILED = "failed"
NOT_CONFIGURED = "not configured"


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return OK


def check_redis() -> str:
    if not settings.REDIS_URL:
        # Celery runs tasks eagerly in-process: there is no broker to be unreachable.
        return NOT_CONFIGURED
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        retry_on_timeout=False,
    )
    try:
        client.ping()
    finally:
        client.close()
    return OK


CHECKS: dict[str, Callable[[], str]] = {"database": check_database, "redis": check_redis}


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception:
            # The traceback names hosts and URLs: it belongs in the log, not in the answer.
            logger.exception("Health check %s failed", name, extra={"check": name})
            results[name] = FAILED
    healthy = FAILED not in results.values()
    return JsonResponse(
        {"status": OK if healthy else "unavailable", "checks": results},
        status=200 if healthy else 503,
    )
