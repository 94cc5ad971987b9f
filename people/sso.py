"""Sign-in matching for single sign-on through the company's OpenID Connect provider.

The provider says who someone is; Levelset decides whether that is one of its people. The rule
is deliberately narrow: the provider must vouch for the e-mail address (`email_verified`), and
exactly one active person in Levelset must have that address (compared case-insensitively).
Anything else is refused with a reason the refusal page explains, and the refusal is written to
the audit log. Nobody is created unless OIDC_CREATE_UNKNOWN_USERS is on, and names are never
changed from the provider's claims: HR owns the organisation's data, through its services.

Password sign-in is a backend of its own here too, so that PASSWORD_SIGN_IN=false refuses a
correct password wherever it is typed (the sign-in page, the admin, any future form), instead
of only hiding a form.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from django.db import models
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from audit import services as audit
from core.actors import User, system_actor
from core.errors import DomainError
from people import events, services

LOGGER = logging.getLogger(__name__)

# Where the backend leaves its reason for refusing, for the callback view to report.
REFUSAL_ATTRIBUTE = "levelset_sso_refusal"


def sso_enabled() -> bool:
    """Single sign-on is on when a client id is configured (read per request, not at import)."""
    return bool(getattr(settings, "OIDC_RP_CLIENT_ID", ""))


def password_sign_in_enabled() -> bool:
    return bool(getattr(settings, "PASSWORD_SIGN_IN", True))


class Refusal(models.TextChoices):
    """Why a sign-in through the provider was refused; the label is what the page says."""

    NO_EMAIL = (
        "no_email",
        "Your company account did not share an e-mail address, so Levelset cannot tell who "
        "you are.",
    )
    UNVERIFIED = (
        "unverified",
        "Your company account has not verified this address, so Levelset cannot rely on it.",
    )
    UNKNOWN = "unknown", "This address is not set up in Levelset: nobody in Levelset has it."
    AMBIGUOUS = (
        "ambiguous",
        "This address is not set up in Levelset as one person: more than one person has it.",
    )
    INACTIVE = "inactive", "The Levelset account with this address is deactivated."
    CONFLICT = (
        "conflict",
        "This address is not set up in Levelset, and another account already uses it as its name.",
    )
    STATE = "state", "The answer did not belong to a sign-in started in this browser."
    TOKEN = "token", "The identity provider's answer could not be verified."
    PROVIDER = "provider", "The identity provider refused or did not complete the sign-in."

    @property
    def about_the_person(self) -> bool:
        """A refusal HR can fix (the address is not set up), rather than a broken exchange."""
        return self in {
            Refusal.NO_EMAIL,
            Refusal.UNVERIFIED,
            Refusal.UNKNOWN,
            Refusal.AMBIGUOUS,
            Refusal.INACTIVE,
            Refusal.CONFLICT,
        }


@dataclass(frozen=True)
class SSORefusal:
    reason: Refusal
    email: str = ""
    detail: str = ""
    person: Any = None  # the matched person, when the refusal is about them (deactivated)


def refusal_of(request: HttpRequest) -> SSORefusal | None:
    return getattr(request, REFUSAL_ATTRIBUTE, None)


def refuse(request: HttpRequest, refusal: SSORefusal) -> None:
    setattr(request, REFUSAL_ATTRIBUTE, refusal)


def _is_true(value: Any) -> bool:
    # JSON true; some providers send the string "true" instead.
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


class CompanySSOBackend(OIDCAuthenticationBackend):  # type: ignore[misc]
    """mozilla-django-oidc's code flow (state, nonce and signature checks are its own) with
    Levelset's matching rule in place of its "find or create by e-mail"."""

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> Any:
        # Django offers every backend every set of credentials. A password sign-in must never
        # reach the provider, even with ?code=&state= in its address: only the callback, which
        # passes the nonce it kept, comes through here.
        if not sso_enabled() or "nonce" not in kwargs or "username" in kwargs:
            return None
        return super().authenticate(request, **kwargs)

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        """The library checks the signature, the algorithm, expiry and the nonce; the audience
        is checked here too, so a token issued to another client of the provider is refused."""
        payload: dict[str, Any] = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("The ID token was issued to another client.")
        return payload

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> Any:
        claims = self.get_userinfo(access_token, id_token, payload)
        # OpenID Connect Core 5.3.2: the userinfo answer must be about the ID token's subject.
        if claims.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("The userinfo answer is about another subject.")
        return match_person(self.request, claims)

    def get_user(self, user_id: Any) -> Any:
        # The library's get_user returns deactivated people too; Django's does not. A person
        # deactivated while signed in is signed out on their next request.
        user = super().get_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


def match_person(request: HttpRequest, claims: dict[str, Any]) -> Any:
    """The one active person the provider's claims name, or None with the reason left on the
    request (see `refusal_of`)."""
    email = str(claims.get("email") or "").strip()
    if not email:
        return refuse(request, SSORefusal(Refusal.NO_EMAIL))
    if not _is_true(claims.get("email_verified")):
        return refuse(request, SSORefusal(Refusal.UNVERIFIED, email=email))
    people = get_user_model().objects.filter(email__iexact=email)
    active = list(people.filter(is_active=True)[:2])
    if len(active) > 1:
        return refuse(request, SSORefusal(Refusal.AMBIGUOUS, email=email))
    if active:
        # Names stay as HR set them: the provider's claims never change a person silently.
        return active[0]
    leaver = people.first()
    if leaver is not None:
        return refuse(request, SSORefusal(Refusal.INACTIVE, email=email, person=leaver))
    if getattr(settings, "OIDC_CREATE_UNKNOWN_USERS", False):
        return _create_person(request, email, claims)
    return refuse(request, SSORefusal(Refusal.UNKNOWN, email=email))


def _create_person(request: HttpRequest, email: str, claims: dict[str, Any]) -> Any:
    """A person for an address nobody has yet, added as the system (audited like any other
    addition). They get no role: HR decides what they may see."""
    try:
        return services.person_create(
            actor=system_actor(),
            username=email.lower()[:150],
            email=email,
            first_name=str(claims.get("given_name") or "")[:150],
            last_name=str(claims.get("family_name") or "")[:150],
        )
    except DomainError as exc:
        return refuse(request, SSORefusal(Refusal.CONFLICT, email=email, detail=exc.message))


def sso_sign_in_record(*, person: User, request: HttpRequest) -> None:
    """Write the audit event of a sign-in through the provider."""
    audit.record(
        actor=person,
        action=events.SSO_SIGNED_IN,
        target=person,
        payload={"email": person.email, "address": request.META.get("REMOTE_ADDR", "")},
    )


def sso_refusal_record(*, refusal: SSORefusal, request: HttpRequest) -> None:
    """Write the audit event of a refused sign-in. Nobody is signed in, so the system acts."""
    audit.record(
        actor=system_actor(),
        action=events.SSO_REFUSED,
        target=refusal.person,
        payload={
            "reason": refusal.reason.value,
            "email": refusal.email,
            "detail": refusal.detail,
            "address": request.META.get("REMOTE_ADDR", ""),
        },
    )


class PasswordBackend(ModelBackend):
    """Django's password sign-in and permissions, with password sign-in refused outright
    while PASSWORD_SIGN_IN is off (checked at each attempt, not when the server starts)."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if not password_sign_in_enabled():
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def axes_ignores(request: HttpRequest, credentials: dict[str, Any] | None) -> bool:
    """django-axes counts wrong passwords per user name and address. The provider's callback
    carries no password (the provider checked it) and no user name, so its refusals would all
    count against one empty name: a few unknown people behind one office address would lock
    everyone there out of single sign-on. Axes leaves the callback alone."""
    if (credentials or {}).get("username"):
        return False
    try:
        return request.path == reverse("oidc_authentication_callback")
    except NoReverseMatch:
        return False


__all__ = [
    "CompanySSOBackend",
    "PasswordBackend",
    "Refusal",
    "SSORefusal",
    "axes_ignores",
    "match_person",
    "password_sign_in_enabled",
    "refusal_of",
    "sso_enabled",
    "sso_refusal_record",
    "sso_sign_in_record",
]
