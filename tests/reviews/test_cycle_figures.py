"""HR's cycle figures (counts per state, who is not done, who is ready) are worked out once
per change to the cycle's reviews, and a change shows at once on the cycle pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core import readcache
from people.services import person_update
from reviews.models import Review
from reviews.permissions import read_scopes
from reviews.services import rating_set_self, review_submit_self
from tests.reviews.conftest import ALL_MIDPOINT, Org

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(client: Client, url: str) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), len(ctx.captured_queries)


def progress_row(html: str, label: str) -> str:
    table = html[html.index('id="progress-table"') :]
    row = table[table.index(f"<td>{label}</td>") :]
    return row[: row.index("</tr>")]


def submit_self(org: Org, who: Any) -> Review:
    review = org.review(who)
    rating_set_self(actor=who, review=review, ratings=ALL_MIDPOINT)
    return review_submit_self(actor=who, review=review)


def test_a_review_write_moves_its_cycle_scope(org: Org) -> None:
    review = org.review(org.engineer)
    assert f"cycle:{org.cycle.pk}" in read_scopes(review)
    before = readcache.generations(f"cycle:{org.cycle.pk}")
    submit_self(org, org.engineer)
    assert readcache.generations(f"cycle:{org.cycle.pk}") != before


def test_the_cycle_page_shows_a_state_change_at_once(org: Org) -> None:
    hr = signed_in(org.hr)
    url = f"/reviews/cycles/{org.cycle.pk}/"
    total = Review.objects.in_cycle(org.cycle).count()
    first, _ = page(hr, url)
    assert f'<td class="num">{total}</td>' in progress_row(first, "Self-review in progress")
    assert f"Not done for this phase ({total})" in first
    ada = str(org.review(org.engineer).engineer)
    assert ada in first

    submit_self(org, org.engineer)
    after, _ = page(hr, url)
    assert f'<td class="num">{total - 1}</td>' in progress_row(after, "Self-review in progress")
    assert '<td class="num">1</td>' in progress_row(after, "Self-review submitted")
    assert f"Not done for this phase ({total - 1})" in after
    assert ada not in after[after.index('id="not-done"') :]

    advance, _ = page(hr, f"/reviews/cycles/{org.cycle.pk}/advance/")
    assert f"{total - 1} reviews are not done for self-review." in advance


def test_the_cycle_figures_are_read_once_per_change(org: Org) -> None:
    hr = signed_in(org.hr)
    url = f"/reviews/cycles/{org.cycle.pk}/"
    _, cold = page(hr, url)
    _, warm = page(hr, url)
    assert warm < cold  # the counts, the listed ids and the late joiners are not read again
    submit_self(org, org.engineer)
    _, after_write = page(hr, url)
    assert after_write == cold


def test_a_rename_shows_in_the_not_done_list(org: Org) -> None:
    hr = signed_in(org.hr)
    url = f"/reviews/cycles/{org.cycle.pk}/"
    page(hr, url)
    person_update(actor=org.hr, user=org.engineer, last_name="Okafor-Reyes")
    html, _ = page(hr, url)
    assert "Okafor-Reyes" in html[html.index('id="not-done"') :]


def test_the_cycle_figures_are_the_same_uncached(org: Org, settings: Any) -> None:
    submit_self(org, org.peer)
    hr = signed_in(org.hr)
    urls = [f"/reviews/cycles/{org.cycle.pk}/", f"/reviews/cycles/{org.cycle.pk}/advance/"]
    cached = [page(hr, url)[0] for url in urls]
    settings.LEVELSET_READ_CACHE = False
    fresh = [page(hr, url)[0] for url in urls]
    strip = lambda html: html.split('name="csrfmiddlewaretoken"')[0]  # noqa: E731
    assert [strip(h) for h in cached] == [strip(h) for h in fresh]
