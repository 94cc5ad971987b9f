"""Delivery events as sent: every problem named by its place, nothing saved when one event is
wrong, and any field that names a person refused with the reason."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from core.errors import ValidationFailed
from metrics.intake import MAX_EVENTS, PERSON_REFUSED, Event, events_from_csv, parse_events

CHANGE = {
    "kind": "change",
    "team": "payments",
    "service": "api",
    "id": "c1",
    "at": "2026-03-02T10:00:00Z",
}


def refused(data: Any) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as caught:
        parse_events(data)
    return caught.value.errors


def test_each_kind_is_read_into_an_event() -> None:
    events = parse_events(
        [
            CHANGE,
            {
                "kind": "deployment",
                "team": "payments",
                "service": "api",
                "id": "d1",
                "at": "2026-03-02T12:00:00+01:00",
                "changes": ["c1", "c1", 7],
            },
            {
                "kind": "incident",
                "team": "payments",
                "service": "api",
                "id": "i1",
                "opened_at": "2026-03-03T09:00:00Z",
                "restored_at": "2026-03-03T10:30:00Z",
                "deployment": "d1",
            },
        ]
    )
    utc = datetime.UTC
    assert events[0] == Event(
        "change", "payments", "api", "c1", datetime.datetime(2026, 3, 2, 10, tzinfo=utc)
    )
    assert events[1].changes == ("c1", "7")  # repeated ids once
    assert events[1].at.astimezone(utc) == datetime.datetime(2026, 3, 2, 11, tzinfo=utc)
    assert events[2].restored_at == datetime.datetime(2026, 3, 3, 10, 30, tzinfo=utc)
    assert events[2].deployment == "d1"


@pytest.mark.parametrize("field", ["author", "committer_email", "assignee", "user", "on_call"])
def test_a_field_naming_a_person_is_refused_with_the_reason(field: str) -> None:
    errors = refused([CHANGE, {**CHANGE, "id": "c2", field: "ada@example.com"}])
    assert errors == {f"[1].{field}": [PERSON_REFUSED]}
    assert "team-level only" in PERSON_REFUSED


def test_every_problem_is_named_and_nothing_is_read() -> None:
    errors = refused(
        [
            {**CHANGE, "at": "2026-03-02T10:00:00"},  # no time zone
            {**CHANGE, "kind": "commit"},
            {
                "kind": "incident",
                "team": "payments",
                "service": "api",
                "id": "i",
                "opened_at": "2026-03-03T09:00:00Z",
                "restored_at": "2026-03-02T09:00:00Z",
            },
            {**CHANGE, "sha": "abc"},
            {**CHANGE, "id": "x" * 201, "service": "a\x00b"},
            {
                "kind": "deployment",
                "team": "t",
                "service": "s",
                "id": "d",
                "at": "yesterday",
                "changes": "c1",
            },
            "not an object",
            {"kind": "change"},
        ]
    )
    assert errors == {
        "[0].at": ["must say its time zone (a Z or an offset such as +01:00)"],
        "[1].kind": ["must be one of change, deployment, incident, indicator"],
        "[2].restored_at": ["must not be before opened_at"],
        "[3].sha": ["is not a field of a change event (its fields: kind, team, service, id, at)"],
        "[4].service": ["must not contain a NUL character"],
        "[4].id": ["must be at most 200 characters"],
        "[5].at": ["must be a date and time in ISO 8601 (2026-03-01T14:05:00Z)"],
        "[5].changes": ["must be a list of change ids"],
        "[6]": ["must be an object with a kind"],
        "[7].team": ["is required"],
        "[7].service": ["is required"],
        "[7].id": ["is required"],
        "[7].at": ["is required"],
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [({"kind": "change"}, "Send a JSON list of events."), ([], "The list holds no event.")],
)
def test_the_body_must_be_a_list_of_events(data: Any, message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        parse_events(data)


def test_a_batch_is_bounded() -> None:
    with pytest.raises(ValidationFailed, match=f"at most {MAX_EVENTS:,} events"):
        parse_events([CHANGE] * (MAX_EVENTS + 1))


def test_many_problems_are_listed_up_to_a_bound() -> None:
    errors = refused([{**CHANGE, "at": "x"}] * 80)
    assert len(errors) == 51 and errors["more"] == ["and 30 more problems not listed"]


def test_a_csv_file_reads_as_the_same_events() -> None:
    rows = events_from_csv(
        "kind,team,service,id,at,changes,opened_at,restored_at,deployment\n"
        "change,payments,api,c1,2026-03-02T10:00:00Z,,,,\n"
        "deployment,payments,api,d1,2026-03-02T12:00:00Z,c1; c2 c3,,,\n"
        "incident,payments,api,i1,,,2026-03-03T09:00:00Z,,d1\n"
    )
    events = parse_events(rows)
    assert [e.kind for e in events] == ["change", "deployment", "incident"]
    assert events[1].changes == ("c1", "c2", "c3")
    assert events[2].restored_at is None and events[2].deployment == "d1"
    with pytest.raises(ValidationFailed, match="kind among them"):
        events_from_csv("team,service\npayments,api\n")
    assert refused(
        events_from_csv("kind,team,service,id,at,author\nchange,p,s,1,2026-03-02T10:00:00Z,ada\n")
    ) == {"[0].author": [PERSON_REFUSED]}


def test_a_file_that_is_not_csv_is_refused_with_a_sentence() -> None:
    with pytest.raises(ValidationFailed, match="not readable as CSV"):
        events_from_csv("kind,team\nchange," + "x" * 200_000 + "\n")  # past csv's field limit
