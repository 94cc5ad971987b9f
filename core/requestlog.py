"""One log line per request: method, path, status, duration, who asked, and a request id.

The path is logged without its query string, which may hold search terms; the person is logged
by id only, never by name or e-mail address. The request id comes from the proxy in front
(`X-Request-ID`) when it looks like one, so a request can be followed from the proxy's log into
Levelset's; otherwise it is made here. Either way it is echoed in the response, and every other
line logged while the request runs carries it too (`RequestIdFilter`).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("levelset.request")

HEADER = "X-Request-ID"
# Letters, digits and a few separators, at most 128 characters: anything else (a newline, an
# attempt to forge log fields, a megabyte) is replaced by an id of our own.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@-]{1,128}")

current_request_id: ContextVar[str | None] = ContextVar("levelset_request_id", default=None)


def request_id_for(request: HttpRequest) -> str:
    offered = request.headers.get(HEADER, "")
    if SANE_REQUEST_ID.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


def user_id_of(request: HttpRequest) -> int | None:
    # Read after the response: by then the session (or an API token, which DRF hands back to
    # the request) has said who asked. The lazy user is already resolved on any request that
    # needed it, so this costs no query of its own on a signed-in request.
    user = getattr(request, "user", None)
    try:
        if user is None or not user.is_authenticated:
            return None
    except Exception:
        # The session could not be read (its database is down): the answer already says so,
        # and the request line must still be written.
        return None
    return int(user.pk)


class RequestLogMiddleware:
    """First in MIDDLEWARE, so the duration covers every other middleware and the line is
    written for answers they give themselves (an HTTPS redirect, a refused host)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_for(request)
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            response[HEADER] = request_id
            status = response.status_code
            logger.log(
                logging.ERROR if status >= 500 else logging.INFO,
                "%s %s %s %.1fms",
                request.method,
                request.path,
                status,
                duration_ms,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": status,
                    "duration_ms": duration_ms,
                    "user_id": user_id_of(request),
                    "request_id": request_id,
                },
            )
            return response
        finally:
            current_request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Adds the running request's id to every record logged while it runs."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = current_request_id.get()
        if request_id is not None and not hasattr(record, "request_id"):
            record.request_id = request_id
        return True
