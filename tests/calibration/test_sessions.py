"""Calibration sessions end to end through the API: board, adjustments, lock, close."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from calibration.models import SessionReview
from calibration.services import session_open
from reviews.models import DimensionRating, Review, ScoreSnapshot
from tests.calibration.conftest import Calibration
from tests.conftest import client_for

BASE = "/api/calibration/sessions"


def url(cal: Calibration, tail: str = "") -> str:
    return f"{BASE}/{cal.session.pk}/{tail}"


def test_board_before_opening_is_read_only_with_prereads(cal: Calibration) -> None:
    manager = client_for(cal.org.manager)
    board = manager.get(url(cal, "board/")).json()
    assert board["status"] == "scheduled"
    assert {r["engineer"] for r in board["rows"]} >= {"Ada Okafor"}
    ada = next(r for r in board["rows"] if r["engineer"] == "Ada Okafor")
    # (25·4 + 75·3) / 100
    assert ada["composite"] == "3.25" and ada["evidence_count"] == 1
    review = cal.review(cal.org.engineer)
    pre = manager.post(
        url(cal, "prereads/"), {"review": review.pk, "text": "Ledger work was big"}, format="json"
    )
    assert pre.status_code == 201
    adjust = client_for(cal.facilitator).post(
        url(cal, "adjustments/"),
        {
            "review": review.pk,
            "dimension": "delivery",
            "rating": 5,
            "rationale": "The ledger rewrite is staff-level scope",
            "evidence": [],
        },
        format="json",
    )
    assert adjust.status_code == 409 and "scheduled" in adjust.json()["message"]


def test_a_manager_who_was_not_invited_sees_nothing(cal: Calibration) -> None:
    client = client_for(cal.outsider_manager)
    for tail in ("", "board/", "analytics/", "adjustments/", "export.csv"):
        assert client.get(url(cal, tail)).status_code == 404
    assert client.get(f"{BASE}/").json() == []
    assert client_for(cal.org.engineer).get(url(cal, "board/")).status_code == 404


def open_session(cal: Calibration) -> None:
    response = client_for(cal.facilitator).post(url(cal, "open/"))
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "open"


def test_opening_snapshots_and_a_review_is_on_one_open_board(cal: Calibration) -> None:
    assert client_for(cal.org.manager).post(url(cal, "open/")).status_code == 403
    open_session(cal)
    entries = SessionReview.objects.filter(session=cal.session)
    assert entries.count() == 2
    ada = entries.get(review=cal.review(cal.org.engineer))
    assert ada.pre_ratings["delivery"] == 4 and str(ada.pre_composite) == "3.25"
    from calibration.services import session_create

    other = session_create(
        actor=cal.org.hr, cycle=cal.org.cycle, name="Overlap", facilitator=cal.facilitator
    )
    from core.errors import Conflict

    # Both reviews are on the first board: nothing waits, so the overlapping session cannot open.
    with pytest.raises(Conflict, match="No review in scope is waiting"):
        session_open(actor=cal.facilitator, session=other)


def adjust(client: Any, cal: Calibration, review: Review, **data: Any) -> Any:
    body = {
        "review": review.pk,
        "dimension": "delivery",
        "rating": 5,
        "rationale": "Led the ledger rewrite across two teams",
        **data,
    }
    return client.post(url(cal, "adjustments/"), body, format="json")


def test_adjustment_needs_a_rationale_and_evidence_or_a_counterexample(cal: Calibration) -> None:
    open_session(cal)
    review = cal.review(cal.org.engineer)
    client = client_for(cal.org.manager)
    missing = adjust(client, cal, review, rationale="ok", evidence=[])
    assert missing.status_code == 400
    assert set(missing.json()["errors"]) == {"rationale", "evidence"}
    foreign = adjust(client, cal, review, evidence=[cal.review(cal.org.peer).evidence.get().pk])
    assert foreign.status_code == 400 and "evidence" in foreign.json()["errors"]
    evidence = review.evidence.get()
    ok = adjust(client, cal, review, evidence=[evidence.pk])
    assert ok.status_code == 201, ok.json()
    assert ok.json()["before"] == 4 and ok.json()["after"] == 5
    low = adjust(
        client,
        cal,
        review,
        dimension="reliability",
        rating=2,
        evidence=[],
        counterexample="Skipped the rollback drill twice this half",
    )
    assert low.status_code == 201
    event = AuditEvent.objects.filter(action="calibration.adjustment.made").first()
    assert event.payload["rationale"] == "Led the ledger rewrite across two teams"
    assert event.payload["evidence"][0]["url"] == evidence.url
    assert event.actor_repr == "manager" and event.payload["session"] == cal.session.pk
    observer = adjust(client_for(cal.org.hr), cal, review, evidence=[evidence.pk])
    assert observer.status_code == 403


def test_stale_versions_never_lose_an_update(cal: Calibration) -> None:
    open_session(cal)
    review = cal.review(cal.org.engineer)
    evidence = review.evidence.get().pk
    board = client_for(cal.facilitator).get(url(cal, "board/")).json()
    version = next(r for r in board["rows"] if r["review"] == review.pk)["version"]
    first, second = client_for(cal.facilitator), client_for(cal.org.manager)
    a = adjust(first, cal, review, evidence=[evidence], version=version)
    assert a.status_code == 201
    b = adjust(second, cal, review, rating=3, evidence=[evidence], version=version)
    assert b.status_code == 409
    assert b.json()["code"] == "stale"
    assert b.json()["current"]["ratings"]["delivery"] == 5
    c = adjust(
        second, cal, review, rating=3, evidence=[evidence], version=b.json()["current"]["version"]
    )
    assert c.status_code == 201
    # With If-Match, a stale version is a 412.
    d = second.post(
        url(cal, "adjustments/"),
        {
            "review": review.pk,
            "dimension": "scope",
            "rating": 4,
            "rationale": "Owns the whole payouts area now",
            "evidence": [evidence],
        },
        format="json",
        HTTP_IF_MATCH=f'"{version}"',
    )
    assert d.status_code == 412
    assert [a.after for a in review.adjustments.all()] == [5, 3]


def test_lock_refuses_changes_until_unlocked_then_close_writes_back(cal: Calibration) -> None:
    open_session(cal)
    review = cal.review(cal.org.engineer)
    evidence = review.evidence.get().pk
    facilitator = client_for(cal.facilitator)
    assert facilitator.post(url(cal, "lock/")).json()["status"] == "locked"
    locked = adjust(facilitator, cal, review, evidence=[evidence])
    assert locked.status_code == 409 and "locked" in locked.json()["message"]
    assert facilitator.post(url(cal, "unlock/")).json()["status"] == "open"
    assert adjust(facilitator, cal, review, evidence=[evidence]).status_code == 201
    closed = facilitator.post(url(cal, "close/")).json()
    assert closed["status"] == "closed"
    assert closed["summary"]["changed"] == 1 and closed["summary"]["reviews"] == 2
    review.refresh_from_db()
    assert review.state == Review.State.CALIBRATED
    assert DimensionRating.objects.get(review=review, dimension_key="delivery").manager_rating == 5
    snapshot = ScoreSnapshot.objects.filter(review=review).order_by("-pk").first()
    assert snapshot.reason == "calibration" and str(snapshot.composite) == "3.50"
    assert not SessionReview.objects.filter(active=True).exists()
    again = adjust(facilitator, cal, review, evidence=[evidence])
    assert again.status_code == 409


def test_export_csv_tells_who_changed_what_when_and_why(cal: Calibration) -> None:
    open_session(cal)
    review = cal.review(cal.org.engineer)
    adjust(client_for(cal.org.manager), cal, review, evidence=[review.evidence.get().pk])
    response = client_for(cal.facilitator).get(url(cal, "export.csv"))
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    ada = next(r for r in rows if r["engineer"] == "Ada Okafor")
    assert (ada["delivery_before"], ada["delivery_after"]) == ("4", "5")
    assert (ada["composite_before"], ada["composite_after"]) == ("3.25", "3.50")
    assert "manager: delivery 4→5 — Led the ledger rewrite across two teams" in ada["changes"]


def board_queries(cal: Calibration, tail: str) -> list[str]:
    client = client_for(type(cal.facilitator).objects.get(pk=cal.facilitator.pk))
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url(cal, tail)).status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


def test_board_and_analytics_queries_are_few_and_constant(cal: Calibration) -> None:
    """The whole board is read once into its cached summary; each page then reads only its
    own rows in detail. Roles, session, participants; the summary's dimensions, rows, evidence
    tallies, previous composites, waiting reviews, scope teams and scope managers; the page's
    rows, self ratings, evidence tallies, pre-reads and previous composites."""
    open_session(cal)
    board = board_queries(cal, "board/")
    assert len(board) == 15, "\n".join(board)
    assert len(board_queries(cal, "board/")) == 9  # the summary from the cache: + dimensions
    assert len(board_queries(cal, "analytics/")) == 3  # roles, session, participants
    cache.clear()
    assert len(board_queries(cal, "analytics/")) == 10


def test_nobody_calibrates_their_own_review(cal: Calibration) -> None:
    from calibration.services import adjustment_make
    from core.errors import Forbidden

    open_session(cal)
    # The participating manager's own review, were it on the board, is out of their reach.
    own = cal.review(cal.org.manager)
    with pytest.raises(Forbidden, match="own review"):
        adjustment_make(
            actor=cal.org.manager,
            session=cal.session,
            review=own,
            dimension_key="delivery",
            rating=5,
            rationale="I did great work this half, honestly",
            counterexample="x",
        )


def test_closing_records_the_write_back_on_each_review(cal: Calibration) -> None:
    open_session(cal)
    assert client_for(cal.facilitator).post(url(cal, "close/")).status_code == 200
    events = AuditEvent.objects.filter(action="reviews.review.calibrated")
    assert events.count() == 2
    ada = events.get(target_id=str(cal.review(cal.org.engineer).pk))
    ratings = ada.payload["ratings"]
    assert ratings["before"]["composite"] == ratings["after"]["composite"] == "3.25"
    assert (ada.payload["before"], ada.payload["after"]) == (
        {"state": "in_calibration"},
        {"state": "calibrated"},
    )
