"""Who acts: every service takes the acting `User`. Work nobody asked for in person (a
scheduled recomputation, a nightly check) acts as the system user, which is recorded as
"system" in the audit log and can never sign in."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User

SYSTEM_USERNAME = "levelset-system"

__all__ = ["SYSTEM_USERNAME", "User", "acting_user", "is_system", "system_actor"]


def system_actor() -> User:
    """The system user (created on first use, inactive, with no usable password)."""
    user, created = get_user_model().objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"first_name": "Levelset", "last_name": "(system)", "is_active": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user  # type: ignore[return-value]


def is_system(user: Any) -> bool:
    return bool(getattr(user, "username", None) == SYSTEM_USERNAME and not user.is_active)


def acting_user(request: Any) -> User:
    """The signed-in user of a page or API request (views require sign-in before this)."""
    user = request.user
    if not isinstance(user, get_user_model()):
        raise PermissionError("Sign in first.")  # unreachable behind login_required
    return user  # type: ignore[return-value]
