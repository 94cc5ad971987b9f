"""Process health counts a cycle's reviews once per change to them, and shows a change at
once: figures of calibration sessions and appeals are read on every request."""

from __future__ import annotations

import statistics
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from calibration.health import _pstdev
from reviews.services import review_acknowledge, review_finalize
from tests.calibration.conftest import Calibration
from tests.calibration.test_appeals_history_health import calibrate_and_finalise
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def health(cal: Calibration) -> tuple[dict[str, Any], int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client_for(cal.org.hr).get(f"/api/cycles/{cal.org.cycle.pk}/health/")
    assert response.status_code == 200
    return response.json(), len(ctx.captured_queries)


def test_a_finalised_review_shows_at_once(cal: Calibration) -> None:
    calibrate_and_finalise(cal)
    before, _ = health(cal)
    assert before["completion"]["finalisation"] == 0.25
    assert before["states"]["finalized"] == 1 and before["median_days_to_finalise"] == 0.0

    review_finalize(actor=cal.org.hr, review=cal.review(cal.org.peer))
    after, _ = health(cal)
    assert after["completion"]["finalisation"] == 0.5
    assert after["states"]["finalized"] == 2 and "calibrated" not in after["states"]

    review_acknowledge(actor=cal.org.engineer, review=cal.review(cal.org.engineer))
    acknowledged, _ = health(cal)
    assert acknowledged["states"] == {**after["states"], "finalized": 1, "acknowledged": 1}
    assert acknowledged["completion"]["acknowledgement"] == 0.25

    browser = Client()
    browser.force_login(cal.org.hr)
    page = browser.get(f"/calibration/cycles/{cal.org.cycle.pk}/health/").content.decode()
    states = page[page.index('id="states"') :]
    assert '<td>Acknowledged</td><td class="num">1</td>' in states


def test_the_review_figures_are_read_once_per_change(cal: Calibration) -> None:
    _, cold = health(cal)
    figures, warm = health(cal)
    assert warm == cold - 2  # the counts per state and the days to finalise
    # Sessions and appeals are read afresh: an adjustment shows at once.
    calibrate_and_finalise(cal)
    after, _ = health(cal)
    assert after["changes"] == figures["changes"] + 1


def test_the_figures_are_the_same_uncached(cal: Calibration, settings: Any) -> None:
    calibrate_and_finalise(cal)
    cached = [health(cal)[0] for _ in range(2)]
    settings.LEVELSET_READ_CACHE = False
    assert health(cal)[0] == cached[0] == cached[1]


@given(st.lists(st.decimals(min_value=1, max_value=5, places=2), min_size=2, max_size=40))
def test_the_spread_agrees_with_the_exact_one_to_three_places(composites: list[Any]) -> None:
    values = [float(c) for c in composites]
    assert round(_pstdev(values), 3) == round(statistics.pstdev(values), 3)
