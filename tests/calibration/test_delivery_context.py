"""The board shows its scope teams' delivery over the last four weeks as context (never a
rating input), each linked to the team's scorecard; a board for the whole cycle shows none."""

from __future__ import annotations

import datetime
from typing import Any

from django.test import Client
from django.utils import timezone

from calibration.services import session_create
from metrics.intake import parse_events
from metrics.services import events_ingest
from tests.calibration.conftest import Calibration


def _recently(days_ago: int, hours: int = 0) -> str:
    day = timezone.now() - datetime.timedelta(days=days_ago)
    return (day.replace(microsecond=0) + datetime.timedelta(hours=hours)).isoformat()


def board(user: Any, session: Any) -> str:
    client = Client()
    client.force_login(user)
    return client.get(f"/calibration/{session.pk}/").content.decode()


def test_the_board_shows_its_teams_delivery_as_context(cal: Calibration) -> None:
    team = cal.org.review(cal.org.engineer).team
    events_ingest(
        actor=cal.org.hr,
        events=parse_events(
            [
                {
                    "kind": "change",
                    "team": team.name,
                    "service": "api",
                    "id": "c1",
                    "at": _recently(3),
                },
                {
                    "kind": "deployment",
                    "team": team.name,
                    "service": "api",
                    "id": "d1",
                    "at": _recently(3, 6),
                    "changes": ["c1"],
                },
            ]
        ),
    )
    html = board(cal.facilitator, cal.session)
    section = html[html.index('id="delivery-context"') :]
    assert f'href="/metrics/teams/{team.pk}/scorecard/">{team.name}</a>' in section
    assert "<td>0.25</td><td>6.00 h</td><td>0.00%</td><td>—</td>" in section  # 1 in 4 weeks
    assert "never an input to anyone's rating or score" in section
    whole_cycle = session_create(
        actor=cal.org.hr, cycle=cal.org.cycle, name="Everyone", facilitator=cal.facilitator
    )
    assert 'id="delivery-context"' not in board(cal.facilitator, whole_cycle)
