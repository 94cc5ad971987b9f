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


def test_each_row_shows_the_last_two_cycles_composites(cal: Calibration) -> None:
    from tests.reviews.test_history import rated_earlier_cycle

    version = cal.org.cycle.rubric_version
    for name, day in (
        ("2025 H2", datetime.date(2025, 11, 1)),
        ("2026 H1", datetime.date(2026, 5, 1)),
        ("2025 H1", datetime.date(2025, 5, 1)),
    ):
        rated_earlier_cycle(cal.org, version, name, day)
    html = board(cal.facilitator, cal.session)
    row = html[html.index(f'id="review-{cal.org.review(cal.org.engineer).pk}"') :]
    cell = row[
        row.index('class="num earlier"') : row.index("</td>", row.index('class="num earlier"'))
    ]
    # The two latest earlier cycles, newest first; 2025 H1 is a third and is left out.
    assert cell.index("2026 H1") < cell.index("2025 H2") and "2025 H1" not in cell
    assert cell.count("3.00") == 2
    peer_row = html[html.index(f'id="review-{cal.org.review(cal.org.peer).pk}"') :]
    assert '<td class="num earlier">—</td>' in peer_row[: peer_row.index("</tr>")]
