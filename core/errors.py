"""Domain errors, which services raise. The one API exception handler
(`core.api.api_exception_handler`) turns them, and DRF's own errors, into
`{"message": "...", "code": "...", "errors": {...}}` so every client gets a sentence a person
can act on plus per-field details for validation problems.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import status


class DomainError(Exception):
    status_code: int = status.HTTP_400_BAD_REQUEST
    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        errors: dict[str, list[str]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        self.extra = extra or {}  # more body fields, e.g. the current state on a 409


class ValidationFailed(DomainError):
    """Input that breaks a rule; `errors` maps a field or path to its messages."""

    @classmethod
    def from_errors(cls, errors: dict[str, list[str]], intro: str = "") -> ValidationFailed:
        """One error for every problem found, its sentence naming each (`path: message`)."""
        return cls(f"{intro}{validation_message(errors)}", errors=errors)


class Conflict(DomainError):
    """The request is valid but not in the object's current state (wrong phase, locked...)."""

    status_code: int = status.HTTP_409_CONFLICT
    code = "conflict"


class StaleVersion(Conflict):
    """The client edited an older version of the object; `extra["current"]` is the newest."""

    code = "stale"


class Forbidden(DomainError):
    """The actor may see the object but not do this to it."""

    status_code: int = status.HTTP_403_FORBIDDEN
    code = "forbidden"


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error structure into {"a.b[2].c": ["message"]}."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(key, int) or str(key).isdigit():
                path = f"{prefix}[{key}]"  # DRF reports list items as {index: errors}
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            if key == "non_field_errors":
                path = prefix or "non_field_errors"
            out.update(flatten_errors(value, path))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]} if detail else {}
        out = {}
        for index, item in enumerate(detail):
            out.update(flatten_errors(item, f"{prefix}[{index}]"))
        return out
    return {prefix or "non_field_errors": [str(detail)]}


def validation_message(errors: Mapping[str, list[str]]) -> str:
    parts = [f"{path}: {messages[0]}" for path, messages in errors.items() if messages]
    if not parts:
        return "The request is invalid."
    return "; ".join(parts)
