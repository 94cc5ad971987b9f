"""What the review, rating, score and team pages write, now that their fields are written in
Python and each row carries its own fields: the same HTML, each field in its dimension."""

from __future__ import annotations

import re
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from reviews.services import evidence_add, rating_set_self, review_submit_self
from rubrics.selectors import version_data
from tests.reviews.conftest import ALL_MIDPOINT, Org


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def section(html: str, element_id: str) -> str:
    """The element with this id, up to the next fieldset or section end."""
    start = html.index(f'id="{element_id}"')
    ends = [i for i in (html.find("</fieldset>", start), html.find("</section>", start)) if i > 0]
    return html[start : min(ends)]


def test_each_rating_field_sits_in_its_own_dimension(org: Org) -> None:
    review = org.review(org.engineer)
    evidence_add(
        actor=org.engineer,
        review=review,
        url="https://github.com/acme/pay/pull/7",
        title="Retry budget",
        dimensions=["reliability", "delivery"],
    )
    page = signed_in(org.engineer).get(f"/reviews/{review.pk}/").content.decode()
    dimensions = version_data(review.cycle.rubric_version).dimensions
    for spec in dimensions:
        fieldset = section(page, f"dim-{spec.key}")
        names = re.findall(r'name="([^"]+)"', fieldset)
        assert names == [f"{spec.key}-rating", f"{spec.key}-justification"]
    # The evidence table names the dimensions an item supports, in the rubric's order.
    label = {spec.key: spec.name for spec in dimensions}
    assert f"<td>{label['delivery']}, {label['reliability']}</td>" in page


def test_the_rate_page_shows_the_form_to_the_manager_only(org: Org) -> None:
    review = org.review(org.engineer)
    rating_set_self(actor=org.engineer, review=review, ratings=ALL_MIDPOINT)
    review_submit_self(actor=org.engineer, review=review)
    url = f"/reviews/{review.pk}/rate/"
    page = signed_in(org.manager).get(url).content.decode()
    for key in ALL_MIDPOINT:
        names = re.findall(r'name="([^"]+)"', section(page, f"dim-{key}"))
        assert names == [f"{key}-rating", f"{key}-justification", f"{key}-counterexample"]
    overall = re.findall(r'name="([^"]+)"', section(page, "overall"))
    assert overall == ["overall_rating", "growth_rating", "manager_confidence"]
    assert 'id="return-form"' in page
    # The skip-level manager reads the same page without a field to fill in or a form to send.
    skip = signed_in(org.director).get(url).content.decode()
    assert "-rating" not in skip and 'id="return-form"' not in skip
    assert "<strong>Self rating:</strong> 3" in skip


def test_the_score_page_reads_only_what_the_breakdown_needs(org: Org) -> None:
    review = org.review(org.engineer)
    rating_set_self(actor=org.engineer, review=review, ratings=ALL_MIDPOINT)
    client = signed_in(org.engineer)
    url = f"/reviews/{review.pk}/score/"
    client.get(url)  # the rubric's content is then in its per-process cache
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url).content.decode()
    # user, roles (the session from the cache), reach, review (engineer, cycle, version),
    # ratings, evidence, the engineer's name, the scale's anchors, unread notifications
    assert len(queries) == 9
    assert "How my score is built" in page and "Ada Okafor" in page
    assert 'id="composite">3.00<' in page


def test_the_team_page_heads_its_columns_with_the_rubrics_dimensions(org: Org) -> None:
    page = signed_in(org.manager).get("/reviews/team/").content.decode()
    for spec in version_data(org.cycle.rubric_version).dimensions:
        assert f'<th title="{spec.name}">{spec.name}</th>' in page
    assert "Ada Okafor" in page
