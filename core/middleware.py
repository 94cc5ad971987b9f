"""Response headers every page and API answer carries."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


class SecurityHeadersMiddleware:
    """Permissions-Policy on everything; and a response to a signed-in person (a session
    cookie or an Authorization header) is never stored by a browser or a proxy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        signed_in = settings.SESSION_COOKIE_NAME in request.COOKIES or (
            "HTTP_AUTHORIZATION" in request.META
        )
        if signed_in and "Cache-Control" not in response.headers:
            add_never_cache_headers(response)  # no-cache, no-store, must-revalidate, private
        return response


class IdleTimeoutMiddleware:
    """Signs a person out after `LEVELSET_SESSION_IDLE` without a request. The last request's
    time is kept in the session and written at most once a minute, so an active session costs
    no write per request."""

    KEY = "levelset_seen"
    WRITE_EVERY = 60  # seconds

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    @classmethod
    def start_clock(cls, sender: object, request: HttpRequest | None, **kwargs: object) -> None:
        if request is not None and hasattr(request, "session"):
            request.session[cls.KEY] = time.time()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            seen = request.session.get(self.KEY)
            idle = settings.LEVELSET_SESSION_IDLE.total_seconds()
            if seen is not None and now - seen > idle:
                logout(request)
                messages.info(
                    request,
                    f"You were signed out after {int(idle // 60)} minutes without activity.",
                )
                return redirect_to_login(request.get_full_path())
            if seen is None or now - seen > self.WRITE_EVERY:
                request.session[self.KEY] = now
        return self.get_response(request)
