"""Telling people things: `tell` is how any service asks Levelset to notify someone, in the
app and by e-mail. Notify imports no domain app: each domain service decides who is told what,
and calls `tell` inside its own transaction, after its audit record."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from audit import services as audit
from core.actors import User
from core.errors import ValidationFailed
from notify import events, registry
from notify.models import (
    MAX_ACTION_LENGTH,
    MAX_KEY_LENGTH,
    MAX_TITLE_LENGTH,
    MAX_URL_LENGTH,
    Notification,
    OptOut,
)
from notify.tasks import send_emails

logger = logging.getLogger(__name__)

# Recipients are read and written this many at a time (bounded statements on any database).
RECIPIENT_CHUNK = 1000
# One e-mail task per this many notifications: each finishes well inside its time limit.
EMAIL_BATCH = 50


def batched(items: Iterable[int], size: int) -> Iterable[list[int]]:
    """The items in lists of at most `size` (itertools.batched arrives with Python 3.12)."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _user_ids(recipients: Iterable[Any]) -> list[int]:
    ids = set()
    for recipient in recipients:
        pk = recipient if isinstance(recipient, int) else getattr(recipient, "pk", None)
        if not isinstance(pk, int) or isinstance(pk, bool):
            raise TypeError(f"A recipient is a user or a user id, not {recipient!r}.")
        ids.add(pk)
    return sorted(ids)


def _one_line(text: str, bound: int) -> str:
    line = " ".join(text.split())
    return line if len(line) <= bound else line[: bound - 1] + "…"


def is_local_path(url: str) -> bool:
    """A path on this site ("/reviews/7/"), never another site's address ("//x", "https:")."""
    return url.startswith("/") and not url.startswith("//") and "\\" not in url


def queue_emails(notification_ids: Sequence[int]) -> None:
    for batch in batched(notification_ids, EMAIL_BATCH):
        send_emails.delay(batch)


def tell(
    *,
    kind: str,
    recipients: Iterable[Any],
    key: str,
    title: str,
    body: str,
    url: str,
    action: str,
    not_to: Any = None,
) -> int:
    """Notify each recipient (a user or a user id; None, say a review with no manager yet,
    is nobody) of one event, in the app and by e-mail, except `not_to` (the person who acted:
    nobody is told of what they did themselves).

    `key` names the event (`f"review:{review.pk}:returned:{review.returned_count}"`): a person
    is told about it once, however often this is called. Inactive people, and people who
    switched this (non-essential) kind off, are not told. The e-mail is queued when the
    caller's transaction commits, so a rolled-back change tells nobody. Returns how many
    notifications it created.
    """
    declared = registry.get(kind)
    if declared is None:
        raise ValueError(f"{kind!r} is not a declared notification kind (see notify.registry).")
    if not is_local_path(url) or len(url) > MAX_URL_LENGTH:
        raise ValueError(f"A notification links to a path on this site, not {url!r}.")
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"A notification key has 1 to {MAX_KEY_LENGTH} characters: {key!r}.")
    title = _one_line(title, MAX_TITLE_LENGTH)
    action = _one_line(action, MAX_ACTION_LENGTH)
    now = timezone.now()
    created: list[int] = []
    with transaction.atomic():
        skip = _user_ids([not_to]) if not_to is not None else []
        wanted = [pk for pk in _user_ids(r for r in recipients if r is not None) if pk not in skip]
        for chunk in batched(wanted, RECIPIENT_CHUNK):
            people = get_user_model().objects.filter(pk__in=chunk, is_active=True)
            # Told already (the same event, an earlier call): nothing new.
            people = people.exclude(
                Exists(Notification.objects.filter(recipient=OuterRef("pk"), key=key))
            )
            if not declared.essential:
                people = people.exclude(
                    Exists(OptOut.objects.filter(user=OuterRef("pk"), kind=declared))
                )
            new_ids = list(people.values_list("pk", flat=True))
            if not new_ids:
                continue
            # A concurrent call for the same event may insert first: its rows win, and the
            # read below (by this call's timestamp) picks only the rows this call wrote.
            Notification.objects.bulk_create(
                [
                    Notification(
                        recipient_id=pk,
                        kind=str(declared),
                        key=key,
                        title=title,
                        body=body,
                        url=url,
                        action=action,
                        created_at=now,
                    )
                    for pk in new_ids
                ],
                ignore_conflicts=True,
            )
            created += Notification.objects.filter(
                recipient_id__in=new_ids, key=key, created_at=now
            ).values_list("pk", flat=True)
        if created:
            # robust: a broker that is down must not fail the change that was just committed;
            # the notifications are in the people's lists either way.
            # (A named function, not a partial: Django names the callback when it fails.)
            def queue_these_emails() -> None:
                queue_emails(created)

            transaction.on_commit(queue_these_emails, robust=True)
    return len(created)


def notification_mark_read(
    *, actor: User, ids: Iterable[int] | None = None, all: bool = False
) -> int:
    """Mark the actor's own notifications read: those with these ids, or all of them. Ids of
    anyone else's notifications mark nothing. Returns how many were unread and now are read."""
    if all == (ids is not None):
        raise ValueError("Pass either ids or all=True.")
    unread = Notification.objects.for_recipient(actor).unread()
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())


def preferences_set(*, actor: User, off: set[str]) -> set[str]:
    """Switch off exactly these kinds for the actor (every other kind is on). Essential kinds
    cannot be switched off. Returns the kinds now switched off."""
    unknown = sorted(code for code in off if registry.get(code) is None)
    if unknown:
        raise ValidationFailed(
            f"There is no kind of notification called {', '.join(unknown)}.",
            errors={"off": [f"unknown: {', '.join(unknown)}"]},
        )
    essential = sorted(code for code in off if _is_essential(code))
    if essential:
        labels = "; ".join(f"“{registry.label(code)}”" for code in essential)
        raise ValidationFailed(
            f"These notifications are always on, because work waits on them: {labels}.",
            errors={"off": [f"always on: {', '.join(essential)}"]},
        )
    with transaction.atomic():
        before = set(
            OptOut.objects.select_for_update().filter(user=actor).values_list("kind", flat=True)
        )
        # A kind no longer declared stays as it was: nobody can see or change it here.
        before_known = {code for code in before if registry.get(code) is not None}
        if off == before_known:
            return before_known
        OptOut.objects.filter(user=actor, kind__in=before_known - off).delete()
        OptOut.objects.bulk_create(
            [OptOut(user=actor, kind=code) for code in sorted(off - before)],
            ignore_conflicts=True,
        )
        audit.record(
            actor=actor,
            action=events.PREFERENCES_CHANGED,
            target=actor,
            payload={
                "switched_off": sorted(off - before_known),
                "switched_on": sorted(before_known - off),
            },
        )
    return set(off)


def _is_essential(code: str) -> bool:
    declared = registry.get(code)
    return declared is not None and declared.essential
