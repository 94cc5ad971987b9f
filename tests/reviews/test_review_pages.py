"""The review pages, through Django's test client: forms, errors beside fields, queries."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from reviews.models import Evidence, Review, ScoreSnapshot
from reviews.services import cycle_add_engineer, evidence_add, rating_set_self, review_submit_self
from tests.factories import EngineerFactory
from tests.reviews.conftest import ALL_MIDPOINT, Org


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_engineer_adds_evidence_and_sees_errors_beside_the_field(org: Org) -> None:
    review = org.review(org.engineer)
    client = signed_in(org.engineer)
    page = client.get(f"/reviews/{review.pk}/").content.decode()
    assert 'id="evidence-form"' in page and 'id="paste-form"' in page
    assert "Delivers multi-week projects" in page  # the L4 criterion beside the rating
    bad = client.post(f"/reviews/{review.pk}/evidence/add/", {"url": "javascript:alert(1)"})
    assert bad.status_code == 400
    html = bad.content.decode()
    assert 'class="field has-error"' in html
    assert "Only http and https links are accepted" in html
    assert not Evidence.objects.exists()
    ok = client.post(
        f"/reviews/{review.pk}/evidence/add/",
        {
            "url": "https://github.com/acme/pay/pull/9",
            "dimensions": ["reliability"],
        },
    )
    assert ok.status_code == 302
    assert Evidence.objects.get().dimensions == ["reliability"]


def test_paste_reports_each_line(org: Org) -> None:
    review = org.review(org.engineer)
    response = signed_in(org.engineer).post(
        f"/reviews/{review.pk}/evidence/paste/",
        {"text": "https://github.com/acme/pay/pull/1\nftp://x.example/y\n"},
    )
    html = response.content.decode()
    assert "line 1: added as Pull request" in html
    assert "line 2: Only http and https" in html
    assert Evidence.objects.count() == 1


def test_submit_with_missing_ratings_shows_the_error(org: Org) -> None:
    review = org.review(org.engineer)
    response = signed_in(org.engineer).post(
        f"/reviews/{review.pk}/ratings/", {"delivery-rating": "3", "submit": "1"}
    )
    assert response.status_code == 400
    assert "Rate every dimension before submitting" in response.content.decode()
    review.refresh_from_db()
    assert review.state == Review.State.DRAFT
    # Save-and-submit is one step: the failed submit leaves no half-saved ratings behind.
    assert not review.ratings.exists()


def test_manager_rate_page_enforces_the_evidence_rule(org: Org) -> None:
    review = org.review(org.engineer)
    rating_set_self(actor=org.engineer, review=review, ratings=ALL_MIDPOINT)
    review_submit_self(actor=org.engineer, review=review)
    org.advance("manager_review")
    client = signed_in(org.manager)
    data = {f"{k}-rating": "3" for k in ALL_MIDPOINT}
    data["mentoring-rating"] = "5"
    response = client.post(f"/reviews/{review.pk}/rate/", data)
    assert response.status_code == 400
    assert (
        "Mentoring rated 5, away from the midpoint 3, needs a justification and an evidence item"
        in (response.content.decode())
    )
    assert not ScoreSnapshot.objects.exists()
    data["mentoring-rating"] = "3"
    data["submit"] = "1"
    assert client.post(f"/reviews/{review.pk}/rate/", data).status_code == 302
    review.refresh_from_db()
    assert review.state == Review.State.MANAGER_SUBMITTED


def test_pages_are_404_for_people_who_may_not_see_the_review(org: Org) -> None:
    review = org.review(org.engineer)
    for url in ("", "rate/", "score/", "score/what-if/?r_delivery=3"):
        assert signed_in(org.stranger).get(f"/reviews/{review.pk}/{url}").status_code == 404
    assert signed_in(org.director).get(f"/reviews/{review.pk}/").status_code == 200


def test_score_page_and_what_if_fragment(org: Org) -> None:
    review = org.review(org.engineer)
    rating_set_self(actor=org.engineer, review=review, ratings=ALL_MIDPOINT)
    client = signed_in(org.engineer)
    page = client.get(f"/reviews/{review.pk}/score/").content.decode()
    assert 'id="composite">3.00<' in page
    assert "Advisory." in page and "<svg" in page
    assert 'hx-get="/reviews/' in page
    fragment = client.get(f"/reviews/{review.pk}/score/what-if/?r_delivery=5&r_reliability=1")
    html = fragment.content.decode()
    assert "Reliability was rated 1, below 2" in html
    assert "what-if: not saved" in html
    assert not ScoreSnapshot.objects.exists()
    bad = client.get(f"/reviews/{review.pk}/score/what-if/?r_delivery=9")
    assert bad.status_code == 400 and "outside the scale" in bad.content.decode()


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_team_page_queries_do_not_grow_with_reports(org: Org) -> None:
    client = signed_in(org.manager)
    client.get("/reviews/team/")  # the rubric's content is then in its per-process cache
    few = count_queries(client, "/reviews/team/")
    for _ in range(30):
        joiner = EngineerFactory(manager=org.manager)
        review = cycle_add_engineer(actor=org.hr, cycle=org.cycle, engineer=joiner)
        evidence_add(
            actor=joiner.user, review=review, url="https://x.example/a", dimensions=["scope"]
        )
        rating_set_self(actor=joiner.user, review=review, ratings=ALL_MIDPOINT)
    page = client.get("/reviews/team/").content.decode()
    assert page.count('href="/reviews/') >= 32
    assert count_queries(client, "/reviews/team/") == few


def test_hr_uploads_team_metrics_with_errors_per_line(org: Org) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from reviews.models import TeamMetrics

    header = (
        "team,deployment_frequency,deployment_frequency_unit,lead_time,lead_time_unit,"
        "change_failure_rate,time_to_restore,time_to_restore_unit\n"
    )
    client = signed_in(org.hr)
    url = f"/reviews/cycles/{org.cycle.pk}/metrics/"
    bad = SimpleUploadedFile(
        "m.csv", (header + "Payments,12,per_week,26,hours,140,3,hours\n").encode()
    )
    response = client.post(url, {"file": bad})
    assert response.status_code == 400
    assert "line 2" in response.content.decode() and "percentage" in response.content.decode()
    assert not TeamMetrics.objects.exists()
    good = SimpleUploadedFile(
        "m.csv", (header + "Payments,12,per_week,26,hours,14,3,hours\n").encode()
    )
    assert client.post(url, {"file": good}).status_code == 302
    assert TeamMetrics.objects.get().change_failure_rate == 14
    assert signed_in(org.manager).get(url).status_code == 404
    assert url in client.get(f"/reviews/cycles/{org.cycle.pk}/").content.decode()


def test_pasted_evidence_is_tagged_and_edited_while_the_self_review_is_open(org: Org) -> None:
    review = org.review(org.engineer)
    client = signed_in(org.engineer)
    client.post(
        f"/reviews/{review.pk}/evidence/paste/",
        {"text": "https://github.com/acme/pay/pull/7\nhttps://wiki.acme.io/postmortems/42"},
    )
    pr = Evidence.objects.get(review=review, url__endswith="/pull/7")
    assert pr.dimensions == []
    page = client.get(f"/reviews/{review.pk}/").content.decode()
    assert "not tagged yet" in page
    url = f"/reviews/{review.pk}/evidence/{pr.pk}/"
    refused = client.post(url, {f"ev{pr.pk}-title": "x" * 201, f"ev{pr.pk}-kind": "pull_request"})
    assert refused.status_code == 400
    assert "Ensure this value has at most 200 characters" in refused.content.decode()
    client.post(
        url,
        {
            f"ev{pr.pk}-title": "Idempotent retries",
            f"ev{pr.pk}-kind": "pull_request",
            f"ev{pr.pk}-contribution": "Designed the retry budget.",
            f"ev{pr.pk}-dimensions": ["delivery", "reliability"],
        },
    )
    pr.refresh_from_db()
    assert (pr.title, pr.dimensions) == ("Idempotent retries", ["delivery", "reliability"])
    # Someone else's evidence is not found, and nothing changes.
    assert signed_in(org.peer).post(url, {f"ev{pr.pk}-title": "Mine"}).status_code == 404
