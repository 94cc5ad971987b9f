"""Where the pieces of the review lifecycle meet: one regression test per seam that once broke
(finalising under an open board, outsiders calibrating, no-op changes, appeals and ETags,
recomputation twice, late joiners of a board, returned self-reviews, what-if, consistency
evidence, unrounded summaries)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from audit.models import AuditEvent
from audit.services import verify_chain
from calibration.models import CalibrationSession
from calibration.services import (
    adjustment_make,
    appeal_create,
    appeal_resolve,
    session_close,
    session_create,
    session_open,
)
from core import readcache
from core.errors import Conflict, Forbidden, ValidationFailed
from promotions.models import PromotionCase
from reviews.models import DimensionRating, Evidence, Review, ReviewCycle, ScoreSnapshot
from reviews.services import (
    cycle_recompute_scores,
    cycle_reopen,
    evidence_add,
    rating_set_manager,
    rating_set_overall,
    rating_set_self,
    review_acknowledge,
    review_finalize,
    review_return,
    review_submit_manager,
    review_submit_self,
)
from tests.calibration.conftest import Calibration, cal, submit_for_calibration  # noqa: F401
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.promotions.test_promotions import nominate, promo  # noqa: F401 - the fixture
from tests.reviews.conftest import ALL_MIDPOINT, Org, build_org, org  # noqa: F401

RATIONALE = "The ledger rewrite landed early and unblocked two teams."


def _open(cal: Calibration) -> CalibrationSession:
    return session_open(actor=cal.facilitator, session=cal.session)


def _delivery_evidence(review: Review) -> int:
    return next(e.pk for e in review.evidence.active() if "delivery" in e.dimensions)


# ---- finalising a review that sits on an open board --------------------------------------------


def test_a_review_on_an_open_board_cannot_be_finalised_and_close_still_works(
    cal: Calibration,
) -> None:
    session = _open(cal)
    review = cal.review(cal.org.engineer)
    assert review.state == Review.State.IN_CALIBRATION
    cal.org.advance("finalisation")
    with pytest.raises(Conflict) as refused:
        review_finalize(actor=cal.org.hr, review=review)
    assert f"calibration session 'Payments H2' (#{session.pk})" in refused.value.message
    assert "Now the facilitator can close its calibration session" in refused.value.message
    api = client_for(cal.org.hr).post(f"/api/reviews/{review.pk}/finalize/")
    assert api.status_code == 409 and "Payments H2" in api.json()["message"]
    # The engineer cannot acknowledge either; the facilitator can still change ratings.
    with pytest.raises(Conflict):
        review_acknowledge(actor=cal.org.engineer, review=review)
    adjustment_make(
        actor=cal.facilitator,
        session=session,
        review=review,
        dimension_key="delivery",
        rating=5,
        rationale=RATIONALE,
        evidence_ids=[_delivery_evidence(review)],
    )
    closed = client_for(cal.facilitator).post(f"/api/calibration/sessions/{session.pk}/close/")
    assert closed.status_code == 200
    review = review_finalize(actor=cal.org.hr, review=cal.review(cal.org.engineer))
    assert review.state == Review.State.FINALIZED
    assert DimensionRating.objects.get(review=review, dimension_key="delivery").manager_rating == 5


# ---- who may change a rating, and what a change needs ------------------------------------------


@pytest.fixture
def outsider_on_board(cal: Calibration) -> tuple[Calibration, Any]:
    """The cal session, re-created with a second invited manager who has no report in its
    scope (the Payments team)."""
    other = get_user_model().objects.get(username="other-manager")
    session = session_create(
        actor=cal.org.hr,
        cycle=cal.org.cycle,
        name="Payments H2 with guests",
        facilitator=cal.facilitator,
        managers=[cal.org.manager, other],
        teams=[cal.review(cal.org.engineer).team],
    )
    cal.session = session_open(actor=cal.facilitator, session=session)
    return cal, other


def test_a_manager_without_a_report_in_scope_changes_nothing(
    outsider_on_board: tuple[Calibration, Any],
) -> None:
    cal, other = outsider_on_board
    review = cal.review(cal.org.engineer)
    board = client_for(other).get(f"/api/calibration/sessions/{cal.session.pk}/board/")
    assert board.status_code == 200  # invited: reads along
    response = client_for(other).post(
        f"/api/calibration/sessions/{cal.session.pk}/adjustments/",
        {
            "review": review.pk,
            "dimension": "delivery",
            "rating": 5,
            "rationale": RATIONALE,
            "evidence": [_delivery_evidence(review)],
        },
        format="json",
    )
    assert response.status_code == 403
    assert "managers in scope" in response.json()["message"]
    detail = client_for(other).get(f"/api/calibration/sessions/{cal.session.pk}/").json()
    assert "adjust" not in detail["allowed_actions"]
    mine = client_for(cal.org.manager).get(f"/api/calibration/sessions/{cal.session.pk}/").json()
    assert "adjust" in mine["allowed_actions"]


@dataclass
class Board:
    org: Org
    facilitator: Any
    session: CalibrationSession
    review: Review
    items: dict[str, int]  # Ada's evidence by the dimension it is tagged to


@pytest.fixture
def tagged(published: Any, hr: Any) -> Board:
    """An open board on which Ada's review has evidence tagged to Delivery and to
    Reliability; her manager rated Delivery 4."""
    org = build_org(published, hr)
    review = org.review(org.engineer)
    for url, dimension in (
        ("https://github.com/acme/pay/pull/7", "delivery"),
        ("https://wiki.acme.io/postmortems/queue", "reliability"),
    ):
        evidence_add(actor=org.engineer, review=review, url=url, dimensions=[dimension])
    rating_set_self(actor=org.engineer, review=review, ratings=ALL_MIDPOINT)
    review_submit_self(actor=org.engineer, review=review)
    org.advance("manager_review")
    _manager_submits(org, review, delivery=4)
    facilitator = UserFactory(username="fatima", roles=["facilitator"])
    session = session_create(
        actor=hr,
        cycle=org.cycle,
        name="Payments H2",
        facilitator=facilitator,
        managers=[org.manager],
        teams=[review.team],
    )
    session = session_open(actor=facilitator, session=session)
    review = org.review(org.engineer)
    items = {item.dimensions[0]: item.pk for item in review.evidence.active()}
    return Board(org, facilitator, session, review, items)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"rating": 5, "rationale": "n/a"}, "rationale", "at least a sentence"),
        ({"rating": 5, "evidence": "reliability"}, "evidence", "tagged to Delivery"),
        ({"rating": 5, "evidence": None, "counterexample": "It"}, "counterexample", "lowering"),
        ({"rating": 4}, "rating", "is already 4"),
        ({"rating": 3, "evidence": None}, "evidence", "or a documented counterexample"),
    ],
)
def test_a_change_needs_a_reason_and_the_right_backing(
    tagged: Board, change: dict[str, Any], field: str, message: str
) -> None:
    tag = change.get("evidence", "delivery")
    with pytest.raises(ValidationFailed) as refused:
        adjustment_make(
            actor=tagged.facilitator,
            session=tagged.session,
            review=tagged.review,
            dimension_key="delivery",
            rating=change["rating"],
            rationale=change.get("rationale", RATIONALE),
            evidence_ids=[] if tag is None else [tagged.items[tag]],
            counterexample=change.get("counterexample", ""),
        )
    assert message in refused.value.errors[field][0]
    assert not tagged.session.adjustments.exists()


def test_the_overall_rating_rises_on_any_evidence_of_the_review(tagged: Board) -> None:
    made = adjustment_make(
        actor=tagged.org.manager,
        session=tagged.session,
        review=tagged.review,
        dimension_key="overall",
        rating=4,
        rationale=RATIONALE,
        evidence_ids=[tagged.items["reliability"]],
    )
    assert (made.before, made.after) == (3, 4)


def test_lowering_may_rest_on_a_documented_counterexample(cal: Calibration) -> None:
    session = _open(cal)
    review = cal.review(cal.org.engineer)
    made = adjustment_make(
        actor=cal.facilitator,
        session=session,
        review=review,
        dimension_key="delivery",
        rating=3,
        rationale="Two handovers slipped and the migration needed a second pass.",
        counterexample="The Q3 handover to the data team was six weeks late.",
    )
    assert (made.before, made.after) == (4, 3)


# ---- appeals change a review like any other change -------------------------------------------


def _finalised(cal: Calibration) -> Review:
    _open(cal)
    session_close(actor=cal.facilitator, session=cal.session)
    cal.org.advance("finalisation")
    return review_finalize(actor=cal.org.hr, review=cal.review(cal.org.engineer))


def test_an_appeal_that_changes_a_rating_moves_the_review_version_on(cal: Calibration) -> None:
    review = _finalised(cal)
    engineer = client_for(cal.org.engineer)
    before = engineer.get(f"/api/reviews/{review.pk}/")
    appeal = appeal_create(
        actor=cal.org.engineer,
        review=review,
        dimension_key="delivery",
        reason="The ledger rewrite was delivered a quarter early.",
    )
    appeal_resolve(
        actor=cal.org.hr,
        appeal=appeal,
        outcome="changed",
        resolution="The evidence shows the early delivery clearly enough.",
        new_rating=5,
    )
    after = engineer.get(f"/api/reviews/{review.pk}/")
    assert int(after["ETag"].strip('"')) == int(before["ETag"].strip('"')) + 1
    assert after.json()["version"] == before.json()["version"] + 1
    snapshot = ScoreSnapshot.objects.filter(review=review).latest()
    assert snapshot.reason == ScoreSnapshot.Reason.APPEAL and snapshot.ratings["delivery"] == 5
    assert AuditEvent.objects.filter(action="reviews.rating.appeal_changed").count() == 1


def test_an_appeal_to_the_same_rating_is_upheld_not_changed(cal: Calibration) -> None:
    review = _finalised(cal)
    appeal = appeal_create(
        actor=cal.org.engineer,
        review=review,
        dimension_key="delivery",
        reason="The ledger rewrite was delivered a quarter early.",
    )
    with pytest.raises(ValidationFailed, match="uphold"):
        appeal_resolve(
            actor=cal.org.hr,
            appeal=appeal,
            outcome="changed",
            resolution="The evidence shows the early delivery clearly enough.",
            new_rating=4,
        )


# ---- recomputing twice -----------------------------------------------------------------------


def test_recomputing_twice_stores_nothing_the_second_time(cal: Calibration) -> None:
    before = ScoreSnapshot.objects.count()
    first = cycle_recompute_scores(actor=cal.org.hr, cycle=cal.org.cycle)
    assert first == 0  # every snapshot already holds today's score
    second = cycle_recompute_scores(actor=cal.org.hr, cycle=cal.org.cycle)
    assert second == 0 and ScoreSnapshot.objects.count() == before
    # A score that is out of date (a different formula) gets exactly one new snapshot.
    ScoreSnapshot.objects.filter(review=cal.review(cal.org.engineer)).update(
        formula_version="weighted-mean-gated/0"
    )
    unchanged = readcache.generation()
    assert cycle_recompute_scores(actor=cal.org.hr, cycle=cal.org.cycle) == 1
    # A new score is read at once wherever scores show (a later board's previous composites);
    # a recompute that stores nothing moves nothing.
    moved = readcache.generation()
    assert moved > unchanged
    assert cycle_recompute_scores(actor=cal.org.hr, cycle=cal.org.cycle) == 0
    assert readcache.generation() == moved


# ---- a review that becomes ready after the board opened ----------------------------------------


def test_a_late_review_waits_joins_the_board_and_is_never_skipped(published: Any, hr: Any) -> None:
    org: Org = build_org(published, hr)
    submit_for_calibration(org, org.engineer)
    submit_for_calibration(org, org.peer)
    org.advance("manager_review")
    ada, ben = org.review(org.engineer), org.review(org.peer)
    _manager_submits(org, ada)
    facilitator = UserFactory(username="fatima", roles=["facilitator"])
    session = session_create(
        actor=hr,
        cycle=org.cycle,
        name="Payments H2",
        facilitator=facilitator,
        managers=[org.manager],
        teams=[ada.team],
    )
    session = session_open(actor=facilitator, session=session)
    assert set(session.board.values_list("review_id", flat=True)) == {ada.pk}
    _manager_submits(org, org.review(org.peer))
    board = client_for(facilitator).get(f"/api/calibration/sessions/{session.pk}/board/").json()
    assert board["waiting"] == [{"review": ben.pk, "engineer": str(ben.engineer)}]
    page = Client()
    page.force_login(facilitator)
    html = page.get(f"/calibration/{session.pk}/").content.decode()
    assert 'id="waiting"' in html and "Add 1 review to the board" in html
    with pytest.raises(Conflict, match="wait to join the board"):
        session_close(actor=facilitator, session=session)
    added = page.post(f"/calibration/{session.pk}/add-reviews/", follow=True)
    assert "1 review(s) joined the board." in added.content.decode()
    assert AuditEvent.objects.filter(action="calibration.session.review_added").count() == 1
    session = session_close(actor=facilitator, session=session)
    assert set(Review.objects.filter(pk__in=[ada.pk, ben.pk]).values_list("state", flat=True)) == {
        Review.State.CALIBRATED
    }
    # The stranger's review is in another team: out of scope, not listed as skipped.
    assert session.summary["reviews"] == 2
    assert {e["review"] for e in session.summary["not_calibrated"]} <= {
        r.pk for r in Review.objects.filter(team=ada.team)
    }


def _manager_submits(org: Org, review: Review, delivery: int = 3) -> Review:
    ratings = {**ALL_MIDPOINT, "delivery": {"rating": delivery, "justification": "Shipped it"}}
    rating_set_manager(actor=org.manager, review=review, ratings=ratings)
    rating_set_overall(actor=org.manager, review=review, overall=3, growth=3)
    return review_submit_manager(actor=org.manager, review=review)


def test_close_lists_reviews_in_scope_that_were_never_ready(cal: Calibration) -> None:
    # The manager's own review is in the Payments team too, and was never self-submitted.
    late = cal.review(cal.org.manager)
    session = session_close(actor=cal.facilitator, session=_open(cal))
    [entry] = [e for e in session.summary["not_calibrated"] if e["review"] == late.pk]
    assert entry["state"] == Review.State.DRAFT
    html = _page(cal.facilitator, f"/calibration/{session.pk}/")
    assert 'id="not-calibrated"' in html and "Self-review in progress" in html


def _page(user: Any, url: str) -> str:
    client = Client()
    client.force_login(user)
    return client.get(url).content.decode()


# ---- a returned self-review ------------------------------------------------------------------


def test_a_returned_self_review_shows_the_reason_and_is_editable_again(org: Org) -> None:
    review = org.review(org.engineer)
    rating_set_self(actor=org.engineer, review=review, ratings=ALL_MIDPOINT)
    review_submit_self(actor=org.engineer, review=review)
    org.advance("manager_review")
    review_return(actor=org.manager, review=review, reason="Add the incident follow-ups you led.")
    detail = client_for(org.engineer).get(f"/api/reviews/{review.pk}/").json()
    assert detail["returned_reason"] == "Add the incident follow-ups you led."
    assert {"edit_self_review", "submit_self"} <= set(detail["allowed_actions"])
    html = _page(org.engineer, f"/reviews/{review.pk}/")
    assert 'id="returned-reason"' in html and "Add the incident follow-ups you led." in html
    assert 'id="evidence-form"' in html and "not submitted in time" not in html
    evidence_add(
        actor=org.engineer,
        review=review,
        url="https://wiki.acme.io/incidents/42/follow-up",
        dimensions=["reliability"],
    )
    review = review_submit_self(actor=org.engineer, review=review)
    assert review.state == Review.State.SELF_SUBMITTED and review.returned_reason == ""


def test_hr_reopens_a_phase_with_a_reason(org: Org) -> None:
    org.advance("manager_review")
    review = org.review(org.engineer)
    late = client_for(org.engineer).get(f"/api/reviews/{review.pk}/").json()
    assert "submit_self" not in late["allowed_actions"]
    assert "HR can reopen its phase" in late["allowed_now"]
    hr = client_for(org.hr)
    refused = hr.post(f"/api/cycles/{org.cycle.pk}/reopen/", {"reason": ""}, format="json")
    assert refused.status_code == 400 and "reason" in refused.json()["errors"]
    assert (
        client_for(org.manager)
        .post(f"/api/cycles/{org.cycle.pk}/reopen/", {"reason": "Late joiners"}, format="json")
        .status_code
        == 403
    )
    reopened = hr.post(
        f"/api/cycles/{org.cycle.pk}/reopen/",
        {"reason": "Two engineers were on leave during the self-review phase."},
        format="json",
    )
    assert reopened.status_code == 200 and reopened.json()["phase"] == "self_review"
    event = AuditEvent.objects.get(action="reviews.cycle.reopened")
    assert event.payload["before"] == {"phase": "manager_review"}
    assert event.payload["reason"].startswith("Two engineers")
    again = client_for(org.engineer).get(f"/api/reviews/{review.pk}/").json()
    assert "submit_self" in again["allowed_actions"]


def test_the_engineer_acknowledges_a_final_review_in_one_click(cal: Calibration) -> None:
    review = _finalised(cal)
    client = Client()
    client.force_login(cal.org.engineer)
    page = client.get(f"/reviews/{review.pk}/").content.decode()
    assert 'id="acknowledge-form"' in page
    done = client.post(f"/reviews/{review.pk}/acknowledge/", follow=True).content.decode()
    assert "Review acknowledged." in done and 'id="acknowledge-form"' not in done
    assert Review.objects.get(pk=review.pk).state == Review.State.ACKNOWLEDGED


def test_a_self_rating_away_from_the_midpoint_needs_a_justification(org: Org) -> None:
    review = org.review(org.engineer)
    with pytest.raises(ValidationFailed) as refused:
        rating_set_self(
            actor=org.engineer,
            review=review,
            ratings={"delivery": {"rating": 5}, "scope": {"rating": 3}},
        )
    assert list(refused.value.errors) == ["ratings.delivery"]
    assert "needs a justification" in refused.value.errors["ratings.delivery"][0]
    rating_set_self(
        actor=org.engineer,
        review=review,
        ratings={"delivery": {"rating": 5, "justification": "Shipped the ledger early."}},
    )


# ---- what-if -----------------------------------------------------------------------------------


def test_what_if_keeps_the_ratings_it_does_not_name(org: Org) -> None:
    review = org.review(org.engineer)
    rating_set_self(
        actor=org.engineer,
        review=review,
        ratings={
            **ALL_MIDPOINT,
            "delivery": {"rating": 5, "justification": "Shipped early."},
            "mentoring": {"rating": None},
        },
    )
    client = client_for(org.engineer)
    url = f"/api/reviews/{review.pk}/score/what-if/"
    current = client.get(f"/api/reviews/{review.pk}/score/").json()
    same = client.post(url, {"ratings": {"delivery": 5}}, format="json").json()
    assert same["composite"] == current["composite"] and same["changed"] == []
    changed = client.post(url, {"ratings": {"technical_quality": 4}}, format="json").json()
    terms = {t["dimension"]: t for t in changed["terms"]}
    assert terms["delivery"]["rating"] == 5  # kept
    assert terms["mentoring"]["rating"] is None  # unrated stays unrated, not 1
    assert changed["changed"] == ["technical_quality"]
    # Rating an ungated dimension low never triggers another dimension's gate, and an unrated
    # gated dimension's gate cannot apply.
    dropped = client.post(url, {"ratings": {"reliability": None}}, format="json").json()
    reliability = next(g for g in dropped["gates"] if g["dimension"] == "reliability")
    assert reliability["applied"] is False and "not rated" in reliability["reason"]


# ---- consistency evidence and summaries ----------------------------------------------------------


def test_one_link_entered_in_two_cycles_is_not_consistency(promo: dict[str, Any]) -> None:
    org = promo["org"]
    case = nominate(promo)
    client = client_for(org.manager)
    new = promo["new"][0]
    # The H2 pull request entered again in H1: one piece of work, two periods in name only.
    old_review = promo["old"].review
    twice = Evidence.objects.create(
        review=old_review, url=new.url, kind=new.kind, title=new.title, dimensions=["delivery"]
    )
    base = f"/api/promotions/{case['id']}"
    for axis, ids in (
        ("scope", [new.pk]),
        ("complexity", [new.pk]),
        ("consistency", [new.pk, twice.pk]),
    ):
        client.put(
            f"{base}/axes/{axis}/",
            {"rating": 4, "narrative": "Led the ledger rewrite across two teams.", "evidence": ids},
            format="json",
        )
    committee = {"committee": ["committee-chair"]}
    refused = client.post(f"{base}/submit/", committee, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"] == {
        "axes.consistency": ["Consistency needs distinct evidence from at least two review periods"]
    }
    client.put(f"{base}/axes/consistency/", {"evidence": [new.pk, promo["old"].pk]}, format="json")
    assert client.post(f"{base}/submit/", committee, format="json").status_code == 200


def test_nobody_decides_their_own_promotion_or_nomination(promo: dict[str, Any]) -> None:
    org = promo["org"]
    case = nominate(promo)
    client = client_for(org.manager)
    ids = [e.pk for e in promo["new"]] + [promo["old"].pk]
    for axis in ("scope", "complexity", "consistency"):
        client.put(
            f"/api/promotions/{case['id']}/axes/{axis}/",
            {"rating": 4, "narrative": "Led the ledger rewrite across two teams.", "evidence": ids},
            format="json",
        )
    for members in (["ada"], ["manager"], ["ben"]):
        refused = client.post(
            f"/api/promotions/{case['id']}/submit/", {"committee": members}, format="json"
        )
        assert refused.status_code == 400, members
        assert "committee" in refused.json()["errors"]
    assert PromotionCase.objects.get(pk=case["id"]).status == PromotionCase.Status.DRAFT


def test_session_summary_means_are_rounded_by_the_scoring_rule(cal: Calibration) -> None:
    session = _open(cal)
    review = cal.review(cal.org.peer)
    adjustment_make(
        actor=cal.facilitator,
        session=session,
        review=review,
        dimension_key="technical_quality",
        rating=2,
        rationale="Two handovers slipped and the migration needed a second pass.",
        counterexample="The Q3 schema change was rolled back twice.",
    )
    summary = session_close(actor=cal.facilitator, session=session).summary
    for key in ("mean_before", "mean_after"):
        value = Decimal(summary[key])
        assert value == value.quantize(Decimal("0.01")), summary[key]
    assert verify_chain().ok


def test_appeals_are_for_final_reviews_only(cal: Calibration) -> None:
    review = cal.review(cal.org.engineer)
    with pytest.raises(Conflict, match="Cannot appeal a rating"):
        appeal_create(
            actor=cal.org.engineer,
            review=review,
            dimension_key="delivery",
            reason="The ledger rewrite was delivered a quarter early.",
        )
    with pytest.raises(Forbidden):
        appeal_create(
            actor=cal.org.manager,
            review=review,
            dimension_key="delivery",
            reason="The ledger rewrite was delivered a quarter early.",
        )


def test_a_cycle_reopened_too_briefly_is_refused_with_a_reason(org: Org) -> None:
    org.advance("manager_review")
    with pytest.raises(ValidationFailed, match="why the phase reopens"):
        cycle_reopen(actor=org.hr, cycle=org.cycle, reason="late")


def test_hr_moves_a_cycle_back_and_forth_from_the_cycles_page(org: Org) -> None:
    org.advance("manager_review")
    client = Client()
    client.force_login(org.hr)
    page = client.get(f"/reviews/cycles/{org.cycle.pk}/").content.decode()
    assert f'action="/reviews/cycles/{org.cycle.pk}/reopen/"' in page
    assert "Why reopen the previous phase?" in page
    refused = client.post(f"/reviews/cycles/{org.cycle.pk}/reopen/", {"reason": "x"})
    assert refused.status_code == 400
    assert "say in a sentence (three words or more) why it reopens" in refused.content.decode()
    done = client.post(
        f"/reviews/cycles/{org.cycle.pk}/reopen/",
        {"reason": "Two engineers were on leave for the whole phase."},
        follow=True,
    ).content.decode()
    assert "2026 H2 is back in Self-review." in done
    moved = client.post(f"/reviews/cycles/{org.cycle.pk}/advance/", follow=True)
    assert "2026 H2 is now in Manager review." in moved.content.decode()
    # The cycles pages are HR's: anyone else finds nothing there, and nothing moves.
    manager = Client()
    manager.force_login(org.manager)
    assert manager.post(f"/reviews/cycles/{org.cycle.pk}/advance/").status_code == 404
    assert ReviewCycle.objects.get(pk=org.cycle.pk).phase == "manager_review"
