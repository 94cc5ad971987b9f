"""Delivery events for the demo teams: half a year of changes, deployments and incidents up to
today, so every team's scorecard has a period and a trend to show."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from metrics.intake import Event
from metrics.services import events_ingest
from people.models import Team

WEEKS = 24


def seed_delivery_events(*, hr: Any, teams: list[Team]) -> None:
    today = timezone.localdate()
    start = datetime.datetime.combine(
        today - datetime.timedelta(weeks=WEEKS), datetime.time(9), tzinfo=datetime.UTC
    )
    for t, team in enumerate(teams):
        service = f"{team.slug}-api"
        events: list[Event] = []
        for week in range(WEEKS):
            # Teams differ, and improve a little over the half year.
            per_week = 1 + (t + week // 8) % 3
            for d in range(per_week):
                deployed = start + datetime.timedelta(weeks=week, days=1 + 2 * d, hours=t)
                changes = []
                for c in range(2):
                    ident = f"{week}-{d}-{c}"
                    lead = datetime.timedelta(hours=4 + (t * 5 + week + c * 7) % (30 - week // 2))
                    events.append(Event("change", team.slug, service, ident, deployed - lead))
                    changes.append(ident)
                deployment = f"deploy-{week}-{d}"
                events.append(
                    Event(
                        "deployment",
                        team.slug,
                        service,
                        deployment,
                        deployed,
                        changes=tuple(changes),
                    )
                )
                if (week + t) % 5 == 0 and d == 0:
                    restore = datetime.timedelta(minutes=20 + 15 * ((t + week) % 7))
                    opened = deployed + datetime.timedelta(hours=1)
                    events.append(
                        Event(
                            "incident",
                            team.slug,
                            service,
                            f"INC-{week}",
                            opened,
                            restored_at=opened + restore,
                            deployment=deployment,
                        )
                    )
        events_ingest(actor=hr, events=events)
