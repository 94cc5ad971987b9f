"""The registry of notification kinds: each declared once, by the app whose services tell
people about it (in its `notices.py`), with the label a person sees on their preferences page.

A non-essential kind can be switched off per person, in the app and by e-mail alike; an
essential one cannot: it tells someone that work is waiting for them (a review to rate, a
self-review returned), and missing it would stall the cycle for everyone after them.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

# The longest code the database keeps (Notification.kind, OptOut.kind).
MAX_CODE_LENGTH = 100


class Kind(str):
    """A notification kind's code (`reviews.self_review.returned`), with its label and whether
    it is essential."""

    label: str
    essential: bool

    def __new__(cls, code: str, label: str, essential: bool) -> Kind:
        declared = super().__new__(cls, code)
        declared.label = label
        declared.essential = essential
        return declared


_REGISTRY: dict[str, Kind] = {}


def kind(code: str, label: str, *, essential: bool = False) -> str:
    """Declare a notification kind and return its code. Each code is declared exactly once."""
    if code in _REGISTRY:
        raise ImproperlyConfigured(f"Notification kind {code!r} is declared twice.")
    if not code or len(code) > MAX_CODE_LENGTH:
        raise ImproperlyConfigured(
            f"A notification kind's code has 1 to {MAX_CODE_LENGTH} characters: {code!r}."
        )
    declared = Kind(code, label, essential)
    _REGISTRY[code] = declared
    return declared


def get(code: str) -> Kind | None:
    return _REGISTRY.get(code)


def all_kinds() -> list[Kind]:
    """Every declared kind, as people read them on their preferences page: by label."""
    return sorted(_REGISTRY.values(), key=lambda k: (k.label.lower(), str(k)))


def label(code: str) -> str:
    """What a kind is about, for people; a kind no longer declared reads as its code."""
    declared = _REGISTRY.get(code)
    return declared.label if declared is not None else code
