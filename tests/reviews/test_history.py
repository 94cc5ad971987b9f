"""An engineer's history across cycles: the manager's rating per dimension and the composite
of each review the viewer may see, the rubric version noted where it changed; the engineer
sees a cycle's ratings once their manager submitted them; anyone else gets a 404."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from reviews.history import engineer_history
from reviews.services import (
    cycle_advance,
    cycle_create,
    cycle_open,
    rating_set_manager,
    rating_set_overall,
    rating_set_self,
    review_submit_manager,
    review_submit_self,
)
from rubrics.services import rubric_import
from tests.conftest import ladder
from tests.reviews.conftest import ALL_MIDPOINT, Org, build_org


def opened(org: Org, name: str, version: Any, day: datetime.date) -> Any:
    return cycle_open(
        actor=org.hr,
        cycle=cycle_create(
            actor=org.hr,
            name=name,
            rubric_version=version,
            self_review_ends=day,
            manager_review_ends=day + datetime.timedelta(days=14),
            calibration_ends=day + datetime.timedelta(days=28),
            finalisation_ends=day + datetime.timedelta(days=42),
        ),
    )


def rated_earlier_cycle(
    org: Org, version: Any, name: str = "2026 H1", day: datetime.date = datetime.date(2026, 5, 1)
) -> Any:
    """An earlier cycle on `version`: Ada's review rated 3 on every dimension by her manager,
    and submitted."""
    cycle = opened(org, name, version, day)
    review = cycle.reviews.get(engineer__user=org.engineer)
    rating_set_self(actor=org.engineer, review=review, ratings=ALL_MIDPOINT)
    review_submit_self(actor=org.engineer, review=review)
    cycle_advance(actor=org.hr, cycle=cycle)
    rating_set_manager(actor=org.manager, review=review, ratings=ALL_MIDPOINT)
    rating_set_overall(actor=org.manager, review=review, overall=3, growth=3)
    review_submit_manager(actor=org.manager, review=review)
    return review


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_history_holds_each_cycle_oldest_first(published: Any, hr: Any) -> None:
    org = build_org(published, hr)  # "2026 H2" on version 1, in its self-review phase
    earlier = rated_earlier_cycle(org, published)
    v2 = rubric_import(actor=hr, data=ladder(2), publish=True)
    later = opened(org, "2027 H1", v2, datetime.date(2027, 5, 1))
    current = org.review(org.engineer)
    engineer_history(org.engineer, current)  # the versions' content: then in the process
    with CaptureQueriesContext(connection) as queries:
        history = engineer_history(org.engineer, current)
    # reach (reviews.permissions), reviews (cycle, version, rubric), ratings, composites (the
    # viewer's roles were read by the first call)
    assert len(queries) == 4
    first, second, third = history.cycles
    assert (first.review, second.review) == (earlier, current)
    assert third.review.cycle == later
    assert [c.version for c in history.cycles] == ["backend-engineering v1"] * 2 + [
        "backend-engineering v2"
    ]
    assert [c.version_changed for c in history.cycles] == [False, False, True]
    assert first.shared and set(first.ratings.values()) == {3}
    assert str(first.composite) == "3.00"
    assert not second.shared and second.ratings == {} and second.composite is None
    assert [key for key, _name in history.dimensions][:2] == list(ALL_MIDPOINT)[:2]
    # The manager sees the cycles not yet submitted too (nothing rated in them yet).
    assert [c.shared for c in engineer_history(org.manager, current).cycles] == [True] * 3


def test_the_page_shows_the_table_the_chart_and_who_may_read_it(published: Any, hr: Any) -> None:
    org = build_org(published, hr)
    rated_earlier_cycle(org, published)
    current = org.review(org.engineer)
    url = f"/reviews/{current.pk}/history/"
    own = signed_in(org.engineer).get(url).content.decode()
    assert "2026 H1" in own and "2026 H2" in own
    assert "Your manager's ratings are shown once they submit them." in own
    assert "<svg" not in own  # one cycle with ratings: a table, no chart yet
    rated_earlier_cycle(org, published, "2025 H2", datetime.date(2025, 11, 1))
    assert signed_in(org.engineer).get(url).content.decode().count("<svg") == 1
    assert signed_in(org.director).get(url).status_code == 200
    assert signed_in(org.peer).get(url).status_code == 404
    assert signed_in(org.stranger).get(url).status_code == 404
    assert (
        f'href="/reviews/{current.pk}/history/"'
        in signed_in(org.engineer).get(f"/reviews/{current.pk}/").content.decode()
    )
