"""core.paging.LookaheadPaginator: counts only as far as the page asked for and a few beyond."""

from __future__ import annotations

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext

from core.paging import AHEAD_PAGES, LookaheadPaginator
from people.models import Team

ROWS = 60


@pytest.fixture
def teams(db: None) -> object:
    Team.objects.bulk_create(Team(slug=f"t{n:03d}", name=f"Team {n:03d}") for n in range(ROWS))
    return Team.objects.order_by("slug")


def test_a_long_list_is_counted_a_few_pages_past_the_one_asked_for(teams: object) -> None:
    paginator = LookaheadPaginator(teams, 2, "1")
    assert paginator.counted_to == (1 + AHEAD_PAGES) * 2 < ROWS
    assert paginator.more and paginator.count == paginator.counted_to + 1
    page = paginator.get_page("1")
    assert [t.slug for t in page] == ["t000", "t001"] and page.has_next()
    html = render_to_string("_pager.html", {"page": page, "query": ""})
    assert f"more than {paginator.counted_to} in all" in html
    assert f"Page 1 of more than {1 + AHEAD_PAGES}" in html


def test_a_page_further_on_counts_further_and_the_end_is_exact(teams: object) -> None:
    paginator = LookaheadPaginator(teams, 2, "25")
    assert not paginator.more and paginator.count == ROWS and paginator.num_pages == ROWS // 2
    assert [t.slug for t in paginator.get_page("25")] == ["t048", "t049"]
    html = render_to_string("_pager.html", {"page": paginator.get_page("25"), "query": ""})
    assert f"Page 25 of {ROWS // 2} · {ROWS} in all" in html


@pytest.mark.parametrize("number", [None, "", "0", "-3", "x", "1e9"])
def test_a_missing_or_bad_page_number_counts_from_the_first_page(
    teams: object, number: str | None
) -> None:
    paginator = LookaheadPaginator(teams, 2, number)
    assert paginator.counted_to == (1 + AHEAD_PAGES) * 2
    assert paginator.get_page(number).number in (1, paginator.num_pages)


def test_the_count_does_not_sort(teams: object) -> None:
    with CaptureQueriesContext(connection) as queries:
        assert LookaheadPaginator(teams, 2, "1").count == (1 + AHEAD_PAGES) * 2 + 1
    [count] = queries.captured_queries
    assert "ORDER BY" not in count["sql"] and "LIMIT" in count["sql"]
