"""State machines, asked in one way by services, APIs, pages and templates.

Each model declares its transitions once, with django-fsm: the states it moves from and to,
the conditions under which it may (the cycle's phase, say), who may take it (a permission
function of the object and the user) and, in `custom`, what it is called and who takes it
(`step("submit the self-review", "the engineer")`). An action that changes no state but is
allowed only in some states (rating, adding evidence) is a transition with `target=None`.

From those declarations alone:
* `require(obj, "submit_self", user)` lets a service refuse with 403 (not this user) or 409
  (not now, saying what can happen now);
* `allowed_actions(obj, user)` is the API's and the pages' "what can this user do now";
* `now_sentence(obj)` says what can happen next, and who does it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from django_fsm import FSMFieldMixin, Transition

from core.errors import Conflict, Forbidden


class Workflow(Protocol):
    """What a model with a state machine tells people about itself."""

    def state_sentence(self) -> str:
        """Where it stands, e.g. "the review is 'Draft' and the cycle is in 'Self-review'"."""
        ...

    def idle_sentence(self) -> str:
        """What to say when no step is possible, e.g. "nothing: the review is closed"."""
        ...


def step(label: str, who: str, *, hidden: bool = False) -> dict[str, Any]:
    """A transition's `custom`: what it is called and who takes it. A hidden step is allowed
    but not offered as "what happens next" (e.g. changing a rating on appeal)."""
    return {"label": label, "who": who, "hidden": hidden}


def _fields(instance: Any) -> Iterator[FSMFieldMixin]:
    for field in instance._meta.concrete_fields:
        if isinstance(field, FSMFieldMixin):
            yield field


def _available(instance: Any) -> Iterator[Transition]:
    """Transitions possible from the current state with every condition met."""
    for field in _fields(instance):
        yield from getattr(instance, f"get_available_{field.name}_transitions")()


def _declared(instance: Any, name: str) -> Transition:
    meta = getattr(getattr(type(instance), name, None), "_django_fsm", None)
    if meta is None:
        raise TypeError(f"{type(instance).__name__}.{name} is not a declared transition.")
    return next(iter(meta.transitions.values()))


def label(instance: Any, name: str) -> str:
    return str(_declared(instance, name).custom.get("label", name.replace("_", " ")))


def is_permitted(instance: Any, name: str, user: Any) -> bool:
    """Whether `user` is someone who takes this step at all (in any state)."""
    return _declared(instance, name).has_perm(instance, user)


def is_open(instance: Any, name: str) -> bool:
    """Whether the step is possible now for whoever takes it (state and conditions only)."""
    return name in {t.name for t in _available(instance)}


def can(instance: Any, name: str, user: Any) -> bool:
    """Whether `user` may take this step now (asking only this step who may take it)."""
    return is_permitted(instance, name, user) and is_open(instance, name)


def allowed_actions(instance: Any, user: Any) -> list[str]:
    """The steps `user` may take now, by name (alphabetical)."""
    return [t.name for t in _available(instance) if t.has_perm(instance, user)]


def require(instance: Any, name: str, user: Any) -> None:
    """Refuse unless `user` may take the step now: Forbidden when they never may, Conflict
    (saying where the object stands and what can happen now) when not in this state."""
    declared = _declared(instance, name)
    what = label(instance, name)
    if not declared.has_perm(instance, user):
        raise Forbidden(f"Only {declared.custom.get('who', 'someone else')} can {what}.")
    if not is_open(instance, name):
        raise Conflict(f"Cannot {what}: {instance.state_sentence()}. Now {now_sentence(instance)}.")


def now_sentence(instance: Any) -> str:
    """What can happen next and who does it, from the declared transitions alone."""
    by_who: dict[str, list[str]] = {}
    for transition in _available(instance):
        custom = transition.custom
        if custom.get("who") and not custom.get("hidden"):
            labels = by_who.setdefault(custom["who"], [])
            if custom["label"] not in labels:
                labels.append(custom["label"])
    if not by_who:
        return str(instance.idle_sentence())
    parts = []
    for who, labels in by_who.items():
        listed = labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} or {labels[-1]}"
        parts.append(f"{who} can {listed}")
    return "; ".join(parts)
