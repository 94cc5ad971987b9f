"""Delivery events as sources send them, checked before anything is written (pure: no ORM).

The shapes, after DORA's Four Keys:
    {"kind": "change", "team": NAME, "service": S, "id": ID, "at": ISO}   (commit time)
    {"kind": "deployment", "team", "service", "id", "at", "changes": [change ids]}
    {"kind": "incident", "team", "service", "id", "opened_at", "restored_at", "deployment": ID}

A batch is all or nothing: every problem is named by its place (`[3].at`) and nothing is
written. A field that names a person is refused, with the reason: the four keys are team-level
context, and Levelset never stores who committed, deployed or was called out."""

from __future__ import annotations

import csv
import datetime
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.dateparse import parse_datetime

from core import limits
from core.errors import ValidationFailed
from metrics.models import ID_LENGTH, INDICATORS, SERVICE_LENGTH

MAX_EVENTS = 5_000  # per request or file
MAX_CHANGES = 1_000  # per deployment

KINDS = ("change", "deployment", "incident", "indicator")
FIELDS: dict[str, tuple[str, ...]] = {
    "change": ("kind", "team", "service", "id", "at"),
    "deployment": ("kind", "team", "service", "id", "at", "changes"),
    "incident": ("kind", "team", "service", "id", "opened_at", "restored_at", "deployment"),
    "indicator": ("kind", "team", "service", "id", "at", "name", "value"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "change": ("team", "service", "id", "at"),
    "deployment": ("team", "service", "id", "at"),
    "incident": ("team", "service", "id", "opened_at"),
    "indicator": ("team", "service", "id", "at", "name", "value"),
}
MAX_VALUE = Decimal("999999999999")
# Field names that say who: refused wherever they appear, whatever they hold.
_PERSON = re.compile(
    r"author|committer|assignee|email|user|login|creator|owner|reporter|responder|resolver"
    r"|engineer|person|people|developer|on_?call",
    re.IGNORECASE,
)
PERSON_REFUSED = (
    "names a person: delivery events are team-level only (the four keys are context for a "
    "team, never an individual's measure), so Levelset stores no author, committer or "
    "assignee; remove the field"
)


@dataclass(frozen=True)
class Event:
    kind: str
    team: str
    service: str
    id: str
    at: datetime.datetime  # commit, deployment or opening time
    restored_at: datetime.datetime | None = None
    deployment: str = ""  # an incident's cause
    changes: tuple[str, ...] = ()  # a deployment's changes
    indicator: str = ""  # a leading indicator's name (metrics.models.INDICATORS)
    value: Decimal | None = None  # and its value


def parse_events(data: Any) -> list[Event]:
    """The events of a request body (a JSON list of objects), or ValidationFailed naming
    every problem."""
    if not isinstance(data, list):
        raise ValidationFailed(
            "Send a JSON list of events.", errors={"events": ["must be a list of events"]}
        )
    if not data:
        raise ValidationFailed("The list holds no event.", errors={"events": ["is empty"]})
    if len(data) > MAX_EVENTS:
        raise ValidationFailed(
            f"Send at most {MAX_EVENTS:,} events at a time ({len(data):,} sent).",
            errors={"events": [f"at most {MAX_EVENTS:,} events"]},
        )
    events: list[Event] = []
    errors: dict[str, list[str]] = {}
    for index, item in enumerate(data):
        event = _event(item, f"[{index}]", errors)
        if event is not None:
            events.append(event)
    if errors:
        raise ValidationFailed.from_errors(limits.listed(errors), "No event was saved: ")
    return events


def events_from_csv(text: str) -> list[dict[str, Any]]:
    """A CSV file's rows as events: a header naming the fields (kind, team, service, id, at,
    changes, opened_at, restored_at, deployment), empty cells left out, a deployment's
    changes separated by spaces or semicolons."""
    try:
        return _csv_rows(text)
    except csv.Error as exc:
        raise ValidationFailed(
            f"The file is not readable as CSV ({exc}).", errors={"file": ["not readable as CSV"]}
        ) from exc


def _csv_rows(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    if "kind" not in header:
        raise ValidationFailed(
            "The file's first line must name the columns, kind among them.",
            errors={"file": ["no header with a kind column"]},
        )
    rows: list[dict[str, Any]] = []
    for row in reader:
        event: dict[str, Any] = {}
        for name, value in row.items():
            if name is None:  # more cells than the header names
                event["(unnamed column)"] = value
                continue
            value = (value or "").strip()
            if value:
                event[name.strip()] = value
        if "changes" in event:
            event["changes"] = [c for c in re.split(r"[\s;]+", event["changes"]) if c]
        rows.append(event)
        if len(rows) > MAX_EVENTS:
            break
    return rows


def _event(item: Any, at: str, errors: dict[str, list[str]]) -> Event | None:
    if not isinstance(item, dict):
        errors[at] = ["must be an object with a kind"]
        return None
    problems = len(errors)
    for key in item:
        if _PERSON.search(key):
            errors[f"{at}.{key[:40]}"] = [PERSON_REFUSED]
    kind = item.get("kind")
    if kind not in KINDS:
        errors[f"{at}.kind"] = [f"must be one of {', '.join(KINDS)}"]
        return None
    for key in item:
        if key not in FIELDS[kind] and f"{at}.{key[:40]}" not in errors:
            errors[f"{at}.{key[:40]}"] = [
                f"is not a field of a {kind} event (its fields: {', '.join(FIELDS[kind])})"
            ]
    for key in REQUIRED[kind]:
        if item.get(key) in (None, ""):
            errors[f"{at}.{key}"] = ["is required"]
    team = _text(item, "team", limits.SHORT_TEXT, at, errors)
    service = _text(item, "service", SERVICE_LENGTH, at, errors)
    ident = _text(item, "id", ID_LENGTH, at, errors)
    when = _time(item, "opened_at" if kind == "incident" else "at", at, errors)
    restored = _time(item, "restored_at", at, errors) if kind == "incident" else None
    if when and restored and restored < when:
        errors[f"{at}.restored_at"] = ["must not be before opened_at"]
    cause = _text(item, "deployment", ID_LENGTH, at, errors) if kind == "incident" else ""
    changes = _changes(item, at, errors) if kind == "deployment" else ()
    name, value = _indicator(item, at, errors) if kind == "indicator" else ("", None)
    if len(errors) > problems or when is None:
        return None
    return Event(kind, team, service, ident, when, restored, cause, changes, name, value)


def _indicator(
    item: dict[str, Any], at: str, errors: dict[str, list[str]]
) -> tuple[str, Decimal | None]:
    name = item.get("name")
    if name is not None and name not in INDICATORS:
        errors[f"{at}.name"] = [f"must be one of {', '.join(INDICATORS)}"]
    raw = item.get("value")
    value = None
    if raw is not None and not isinstance(raw, bool):
        try:
            value = Decimal(str(raw)).quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            value = None
    if raw is not None and (value is None or not value.is_finite() or not 0 <= value <= MAX_VALUE):
        errors[f"{at}.value"] = [f"must be a number from 0 to {MAX_VALUE:,}"]
        value = None
    return (name if isinstance(name, str) else ""), value


def _text(
    item: dict[str, Any], key: str, longest: int, at: str, errors: dict[str, list[str]]
) -> str:
    value = item.get(key)
    if value in (None, ""):
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        errors[f"{at}.{key}"] = ["must be a string"]
        return ""
    text = str(value).strip()
    if len(text) > longest:
        errors[f"{at}.{key}"] = [f"must be at most {longest} characters"]
    elif "\x00" in text:
        errors[f"{at}.{key}"] = ["must not contain a NUL character"]
    return text


def _time(
    item: dict[str, Any], key: str, at: str, errors: dict[str, list[str]]
) -> datetime.datetime | None:
    value = item.get(key)
    if value in (None, ""):
        return None
    parsed = None
    if isinstance(value, str) and len(value) <= 40:
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
    if parsed is None:
        errors[f"{at}.{key}"] = ["must be a date and time in ISO 8601 (2026-03-01T14:05:00Z)"]
        return None
    if parsed.tzinfo is None:
        errors[f"{at}.{key}"] = ["must say its time zone (a Z or an offset such as +01:00)"]
        return None
    if not limits.EARLIEST_DATE <= parsed.date() <= limits.LATEST_DATE:
        errors[f"{at}.{key}"] = [
            f"must be between {limits.EARLIEST_DATE.year} and {limits.LATEST_DATE.year}"
        ]
        return None
    return parsed


def _changes(item: dict[str, Any], at: str, errors: dict[str, list[str]]) -> tuple[str, ...]:
    value = item.get("changes", [])
    if not isinstance(value, list) or not all(
        isinstance(c, str | int) and not isinstance(c, bool) for c in value
    ):
        errors[f"{at}.changes"] = ["must be a list of change ids"]
        return ()
    if len(value) > MAX_CHANGES:
        errors[f"{at}.changes"] = [f"must list at most {MAX_CHANGES:,} changes"]
        return ()
    ids = tuple(dict.fromkeys(str(c).strip() for c in value if str(c).strip()))
    if any("\x00" in c for c in ids):
        errors[f"{at}.changes"] = ["must not contain a NUL character"]
        return ()
    if any(len(c) > ID_LENGTH for c in ids):
        errors[f"{at}.changes"] = [f"each change id must be at most {ID_LENGTH} characters"]
        return ()
    return ids
