"""Your account: your password and your API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.actors import acting_user
from core.errors import DomainError
from people import services
from people.api import live_tokens


@login_required
def account(request: HttpRequest) -> HttpResponse:
    return render(request, "people/account.html", {"tokens": live_tokens(request.user)})


@login_required
@require_POST
def token_issue(request: HttpRequest) -> HttpResponse:
    try:
        instance, token = services.token_issue(actor=acting_user(request))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("account")
    # Shown once, on this response only: Levelset keeps only its hash.
    return render(
        request,
        "people/account.html",
        {"tokens": live_tokens(request.user), "new_token": token, "new_instance": instance},
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_key: str) -> HttpResponse:
    try:
        services.token_revoke(actor=acting_user(request), token_key=token_key)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Token {token_key}… revoked.")
    return redirect("account")
