from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest

from metrics.governance import governed_metric_create
from metrics.intake import parse_events
from metrics.models import GovernedMetric
from metrics.services import Ingested, events_ingest
from people.models import Team
from tests.factories import TeamFactory


@pytest.fixture
def payments(db: None) -> Team:
    return TeamFactory(slug="payments", name="Payments")


@pytest.fixture
def search(db: None) -> Team:
    return TeamFactory(slug="search", name="Search")


def at(day: int, hour: int = 0, minute: int = 0) -> str:
    """An instant of March 2026, as a source writes it."""
    return datetime.datetime(2026, 3, day, hour, minute, tzinfo=datetime.UTC).isoformat()


def change(
    ident: str, day: int, hour: int = 0, team: str = "payments", service: str = "api"
) -> dict[str, Any]:
    return {"kind": "change", "team": team, "service": service, "id": ident, "at": at(day, hour)}


def deployment(
    ident: str,
    day: int,
    hour: int,
    changes: list[str],
    team: str = "payments",
    service: str = "api",
) -> dict[str, Any]:
    return {
        "kind": "deployment",
        "team": team,
        "service": service,
        "id": ident,
        "at": at(day, hour),
        "changes": changes,
    }


def incident(
    ident: str, opened: str, restored: str | None, cause: str = "", team: str = "payments"
) -> dict[str, Any]:
    event = {"kind": "incident", "team": team, "service": "api", "id": ident, "opened_at": opened}
    if restored:
        event["restored_at"] = restored
    if cause:
        event["deployment"] = cause
    return event


def send(actor: Any, *events: dict[str, Any], source: Any = None) -> Ingested:
    return events_ingest(actor=actor, events=parse_events(list(events)), source=source)


def govern(hr: Any, owner: Any, subject: str = "team:lead_time", **changes: Any) -> GovernedMetric:
    fields = {
        "subject": subject,
        "owner": owner,
        "functions": ["engineering", "product"],
        "purpose": "See how long changes wait.",
        "hypothesis": "Shorter lead times predict fewer incidents per change.",
        "limitations": "Says nothing about value.",
        "anti_gaming": "Never per person.",
        "baseline": Decimal("30"),
        "target_low": Decimal("4"),
        "target_high": Decimal("48"),
        "cadence": "quarterly",
        **changes,
    }
    return governed_metric_create(actor=hr, **fields)
