"""The scorecard page: the four keys of a period with their trend as charts and a table, for
whoever may see the team; a bad period named beside its field; linked from the manager's team
page."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.test import Client

from people.models import Team
from tests.factories import EngineerFactory, UserFactory
from tests.metrics.conftest import at, change, deployment, govern, incident, send
from tests.reviews.conftest import build_org


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_shows_the_period_its_trend_and_charts(hr: Any, payments: Team) -> None:
    send(
        hr,
        change("c1", 16, 0),
        deployment("d1", 16, 8, ["c1"]),
        incident("i1", at(17), at(17, 2), "d1"),
    )
    member = EngineerFactory(team=payments).user
    page = signed_in(member).get(
        f"/metrics/teams/{payments.pk}/scorecard/?start=2026-03-15&end=2026-03-28"
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "15 Mar 2026 to 28 Mar 2026" in html
    assert "<td>8.00 h</td>" in html and "<td>100.00%</td>" in html and "<td>2.00 h</td>" in html
    assert html.count("<svg") == 4 and html.count("<figcaption") == 4
    assert html.count('<th scope="col">') == 5 + 7  # the current table's, the trend's (key + 6)
    assert html.count("not governed yet") == 4
    assert "never an input to anyone's score" in html


def test_a_bad_period_is_named_beside_its_field(hr: Any, payments: Team) -> None:
    html = (
        signed_in(hr)
        .get(f"/metrics/teams/{payments.pk}/scorecard/?start=2026-03-20&end=2026-03-01")
        .content.decode()
    )
    assert 'class="field has-error"' in html
    assert "Choose a day on or before the last" in html
    assert "<svg" in html  # the default period is shown meanwhile


def test_whoever_may_not_see_the_team_gets_a_404(payments: Team, search: Team) -> None:
    member = EngineerFactory(team=payments).user
    assert signed_in(member).get(f"/metrics/teams/{search.pk}/scorecard/").status_code == 404
    assert (
        signed_in(UserFactory()).get(f"/metrics/teams/{payments.pk}/scorecard/").status_code == 404
    )
    assert Client().get(f"/metrics/teams/{payments.pk}/scorecard/").status_code == 302  # sign in


def test_the_team_page_links_each_teams_scorecard(published: Any, hr: Any) -> None:
    org = build_org(published, hr)
    html = signed_in(org.manager).get("/reviews/team/").content.decode()
    team = org.engineer.engineer.team
    assert f'href="/metrics/teams/{team.pk}/scorecard/">{team.name}</a>' in html


def test_a_governed_key_shows_its_range_and_notes(hr: Any, payments: Team) -> None:
    send(hr, change("c1", 16, 0), deployment("d1", 16, 8, ["c1"]))
    govern(
        hr,
        hr,
        hypothesis="Shorter waits predict fewer incidents.",
        baseline=Decimal("12"),
        target_low=Decimal("1"),
        target_high=Decimal("6"),
    )
    html = (
        signed_in(hr)
        .get(f"/metrics/teams/{payments.pk}/scorecard/?start=2026-03-15&end=2026-03-28")
        .content.decode()
    )
    assert "1.00–6.00 h" in html and "(baseline 12.00)" in html
    assert '<span class="badge">above the range</span>' in html  # 8 h
    assert "Shorter waits predict fewer incidents." in html and html.count("not governed yet") == 3
