"""The registry of audit action codes: each declared once, by the app whose services write it,
with the sentence that explains it. `audit.services.record` refuses a code nobody declared;
pages, the PDF and the API read the sentence from here instead of matching strings."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ImproperlyConfigured


class Action(str):
    """An action code (`reviews.review.self_submitted`) and its sentence ("submitted the
    self-review"), which reads after the actor's name. The code's first part is its area."""

    sentence: str

    def __new__(cls, code: str, sentence: str) -> Action:
        action = super().__new__(cls, code)
        action.sentence = sentence
        return action

    @property
    def area(self) -> str:
        return self.split(".", 1)[0]


_REGISTRY: dict[str, Action] = {}


def action(code: str, sentence: str) -> Action:
    """Declare an action code. Each code is declared exactly once."""
    if code in _REGISTRY:
        raise ImproperlyConfigured(f"Audit action {code!r} is declared twice.")
    declared = Action(code, sentence)
    _REGISTRY[code] = declared
    return declared


def lookup(code: str) -> Action | None:
    return _REGISTRY.get(code)


def sentence(code: str) -> str:
    """What the action did, for people; an undeclared (retired) code reads as itself."""
    declared = _REGISTRY.get(code)
    return declared.sentence if declared is not None else code.replace(".", " ").replace("_", " ")


def declared() -> list[Action]:
    return sorted(_REGISTRY.values())


def codes(actions: Iterable[Action]) -> list[str]:
    return [str(a) for a in actions]


def areas() -> list[str]:
    return sorted({a.area for a in _REGISTRY.values()})


def in_area(area: str) -> list[str]:
    """Every declared code of one area, e.g. all of "calibration"."""
    return sorted(code for code, a in _REGISTRY.items() if a.area == area)


def choices() -> list[tuple[str, str]]:
    return [(str(a), f"{a} — {a.sentence}") for a in declared()]
