"""Sign-in pages: the sign-in page (password form and/or the company's provider), the two ends
of the OpenID Connect code flow, and the page that explains a refused sign-in."""

from __future__ import annotations

import logging
from typing import Any

import requests
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from people.sso import (
    Refusal,
    SSORefusal,
    password_sign_in_enabled,
    refusal_of,
    refuse,
    sso_enabled,
    sso_refusal_record,
    sso_sign_in_record,
)

LOGGER = logging.getLogger(__name__)

# The refusal shown on the refusal page, kept in the (anonymous) session between the callback
# and the page it redirects to.
SESSION_KEY = "levelset_sso_refusal"


def _sign_in_options() -> dict[str, Any]:
    return {
        "sso_enabled": sso_enabled(),
        "sso_provider_name": settings.OIDC_PROVIDER_NAME,
        "password_sign_in": password_sign_in_enabled(),
    }


class SignInView(auth_views.LoginView):
    """Django's sign-in page, offering the company's provider when single sign-on is on and
    the password form only while password sign-in is allowed."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), **_sign_in_options()}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not password_sign_in_enabled():
            # The password backend refuses as well; this answers with the page and a sentence
            # rather than "wrong password" for a password that may well be right.
            context = self.get_context_data(password_refused=True)
            return self.render_to_response(context, status=403)
        return super().post(request, *args, **kwargs)


class SSOStartView(OIDCAuthenticationRequestView):  # type: ignore[misc]
    """Sends the browser to the provider with a fresh state and nonce kept in the session."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if not sso_enabled():
            raise Http404("Single sign-on is not configured.")
        return super().get(request)  # type: ignore[no-any-return]


class SSOCallbackView(OIDCAuthenticationCallbackView):  # type: ignore[misc]
    """Where the provider sends the browser back. The library checks the state against the
    session, then the ID token's signature and nonce; every way it can fail ends on the
    refusal page with its reason, and in the audit log."""

    @property
    def failure_url(self) -> str:
        return resolve_url(settings.LOGIN_REDIRECT_URL_FAILURE)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not sso_enabled():
            raise Http404("Single sign-on is not configured.")
        state = request.GET.get("state")
        pending = request.session.get("oidc_states") or {}
        if "code" in request.GET and state is not None and state not in pending:
            # An answer to a sign-in this browser did not start (or already finished): the
            # library would raise; say so instead.
            refuse(request, SSORefusal(Refusal.STATE, detail="state not found in the session"))
            return self.login_failure()
        try:
            return super().get(request)  # type: ignore[no-any-return]
        except SuspiciousOperation as exc:
            # A bad signature, a nonce that is not the one this browser sent, another audience.
            refuse(request, SSORefusal(Refusal.TOKEN, detail=str(exc)))
        except requests.RequestException as exc:
            # The provider would not exchange the code (used, expired, not ours) or is down.
            LOGGER.warning("Single sign-on: the provider did not complete the sign-in: %s", exc)
            refuse(request, SSORefusal(Refusal.PROVIDER, detail=type(exc).__name__))
        return self.login_failure()

    def login_success(self) -> HttpResponse:
        response = super().login_success()
        sso_sign_in_record(person=self.user, request=self.request)
        self.request.session.pop(SESSION_KEY, None)
        return response  # type: ignore[no-any-return]

    def login_failure(self) -> HttpResponse:
        request = self.request
        refusal = refusal_of(request)
        if refusal is None:
            # The library stopped before asking the backend: the provider answered with an
            # error, or this browser has no sign-in in progress.
            if request.GET.get("error"):
                refusal = SSORefusal(Refusal.PROVIDER, detail=request.GET["error"][:100])
            else:
                refusal = SSORefusal(Refusal.STATE, detail="no sign-in in progress")
        sso_refusal_record(refusal=refusal, request=request)
        request.session[SESSION_KEY] = {"reason": refusal.reason.value, "email": refusal.email}
        return HttpResponseRedirect(self.failure_url)


def sso_refused(request: HttpRequest) -> HttpResponse:
    """Why the last sign-in through the provider was refused, and what to do about it."""
    kept = request.session.get(SESSION_KEY) or {}
    try:
        reason: Refusal | None = Refusal(str(kept.get("reason")))
    except ValueError:
        reason = None
    context = {
        "reason": reason,
        "email": kept.get("email", ""),
        **_sign_in_options(),
    }
    return render(request, "registration/sso_refused.html", context, status=403)
