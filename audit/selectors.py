"""Reads of the audit log for its page: a page of events found by keyset, and the people a
search names. Both cost the same however long the log grows."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from audit.models import AuditEvent, AuditEventQuerySet
from core.actors import SYSTEM_USERNAME
from core.filters import named_by

SYSTEM_ACTOR = "system"  # how the log names the system user (audit.services.record)


@dataclass(frozen=True)
class EventPage:
    """Some events, newest first, and where the pages beside them start."""

    events: list[AuditEvent]
    # `after` for the page of newer events; None when these are the newest that match.
    newer: int | None
    # `before` for the page of older events; None when these are the oldest that match.
    older: int | None


def event_page(
    events: AuditEventQuerySet, *, size: int, before: int | None = None, after: int | None = None
) -> EventPage:
    """The `size` newest of `events` numbered below `before`, or the `size` oldest numbered
    above `after`, shown newest first (keyset pagination: each page starts from an event's
    number, never at an OFFSET, and nothing is counted).

    One query reads the page and one more than it shows, which says whether there is a page
    beyond it; when a page is asked from an event (`before` or `after`), one more asks whether
    there is any on the other side."""
    top: int | None
    bottom: int | None
    if after is not None:
        rows = list(events.filter(seq__gt=after).order_by("seq")[: size + 1])
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        more_older = events.filter(seq__lte=after).exists()
        top, bottom = (rows[0].seq, rows[-1].seq) if rows else (after, after + 1)
    else:
        start = events if before is None else events.filter(seq__lt=before)
        rows = list(start.order_by("-seq")[: size + 1])
        more_older = len(rows) > size
        rows = rows[:size]
        more_newer = before is not None and events.filter(seq__gte=before).exists()
        top, bottom = (rows[0].seq, rows[-1].seq) if rows else ((before or 1) - 1, before)
    return EventPage(
        events=rows,
        newer=top if more_newer else None,
        older=bottom if more_older else None,
    )


PEOPLE_FOUND = 10


def people_matching(text: str, *, limit: int = PEOPLE_FOUND) -> list[tuple[str, str]]:
    """Up to `limit` people each word of `text` names (found in a first name, last name or
    username), as (the name the log records them by, their full name), for the actor search.
    It reads the people, never the log."""
    if not text.split():
        return []
    people = named_by(get_user_model().objects.all(), text)
    found = people.order_by("username").values_list(
        "username", "first_name", "last_name", "is_active"
    )[:limit]
    return [
        (
            SYSTEM_ACTOR if username == SYSTEM_USERNAME and not active else username,
            f"{first} {last}".strip() or username,
        )
        for username, first, last, active in found
    ]
