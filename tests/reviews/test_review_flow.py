"""Review cycles and the review state machine, through the services."""

from __future__ import annotations

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from core.errors import Conflict, Forbidden, ValidationFailed
from reviews.models import Evidence, Review, ScoreSnapshot
from reviews.services import (
    cycle_add_engineer,
    evidence_add,
    evidence_paste,
    evidence_update,
    evidence_withdraw,
    rating_set_manager,
    rating_set_self,
    recount_evidence,
    review_acknowledge,
    review_finalize,
    review_return,
    review_submit_manager,
    review_submit_self,
)
from tests.factories import EngineerFactory
from tests.reviews.conftest import ALL_MIDPOINT, Org

State = Review.State


def test_opening_a_cycle_copies_level_and_manager(org: Org) -> None:
    review = org.review(org.engineer)
    assert (review.level_code, review.manager, review.state) == ("L4", org.manager, State.DRAFT)
    # Engineers without a manager (the director) are out of scope.
    assert Review.objects.filter(cycle=org.cycle).count() == 4
    # A later reorg does not rewrite the review.
    profile = org.engineer.engineer
    profile.level_code, profile.manager = "L5", org.director
    profile.save()
    review.refresh_from_db()
    assert (review.level_code, review.manager) == ("L4", org.manager)
    assert AuditEvent.objects.filter(action="reviews.cycle.opened").get().payload["reviews"] == 4


def test_late_joiner(org: Org) -> None:
    joiner = EngineerFactory(manager=org.manager, level_code="L3")
    review = cycle_add_engineer(actor=org.hr, cycle=org.cycle, engineer=joiner)
    assert review.level_code == "L3"
    with pytest.raises(Conflict, match="already has a review"):
        cycle_add_engineer(actor=org.hr, cycle=org.cycle, engineer=joiner)
    with pytest.raises(Forbidden):
        cycle_add_engineer(actor=org.manager, cycle=org.cycle, engineer=EngineerFactory())


def test_evidence_add_normalises_infers_and_refuses_duplicates(org: Org) -> None:
    review = org.review(org.engineer)
    item = evidence_add(
        actor=org.engineer,
        review=review,
        url=" HTTPS://GitHub.com/acme/pay/pull/42 ",
        dimensions=["reliability", "delivery"],
        contribution="Wrote the retry logic.",
    )
    assert item.url == "https://github.com/acme/pay/pull/42"
    assert item.kind == "pull_request"
    assert item.title == "github.com/acme/pay/pull/42"
    assert item.dimensions == ["delivery", "reliability"]  # rubric order
    with pytest.raises(ValidationFailed, match="already evidence"):
        evidence_add(actor=org.engineer, review=review, url="https://github.com/acme/pay/pull/42")
    with pytest.raises(ValidationFailed) as excinfo:
        evidence_add(actor=org.engineer, review=review, url="javascript:alert(1)")
    assert "url" in excinfo.value.errors
    with pytest.raises(ValidationFailed, match="Unknown dimension velocity"):
        evidence_add(
            actor=org.engineer, review=review, url="https://x.example/a", dimensions=["velocity"]
        )
    assert review.evidence.count() == 1


def test_only_the_owner_adds_evidence(org: Org) -> None:
    review = org.review(org.engineer)
    for user in (org.manager, org.peer, org.hr):
        with pytest.raises(Forbidden):
            evidence_add(actor=user, review=review, url="https://x.example/a")


def test_paste_accepts_and_refuses_line_by_line(org: Org) -> None:
    review = org.review(org.engineer)
    evidence_add(actor=org.engineer, review=review, url="https://wiki.acme.io/postmortems/a")
    results = evidence_paste(
        actor=org.engineer,
        review=review,
        text="https://github.com/acme/pay/pull/7\nfile:///etc/passwd\n"
        "https://wiki.acme.io/postmortems/a\nhttps://docs.google.com/document/d/x\n",
    )
    assert [(r["line"], r["accepted"]) for r in results] == [
        (1, True),
        (2, False),
        (3, False),
        (4, True),
    ]
    assert "not file:" in results[1]["error"]
    assert results[2]["error"] == "Already evidence on this review."
    kinds = sorted(review.evidence.values_list("kind", flat=True))
    assert kinds == ["design_doc", "postmortem", "pull_request"]


def test_the_review_keeps_its_count_of_active_evidence(org: Org) -> None:
    """The stored count lists show and sort by follows adding, pasting and withdrawing, and
    a refused paste line does not count."""
    review = org.review(org.engineer)
    item = evidence_add(actor=org.engineer, review=review, url="https://wiki.acme.io/pm/a")
    evidence_paste(
        actor=org.engineer,
        review=review,
        text="https://github.com/acme/pay/pull/7\nfile:///etc/passwd\nhttps://wiki.acme.io/pm/b\n",
    )
    review.refresh_from_db()
    assert review.evidence_count == 3
    evidence_withdraw(actor=org.engineer, evidence=item)
    review.refresh_from_db()
    assert review.evidence_count == 2 == review.evidence.active().count()


def test_self_review_submit_needs_every_dimension(org: Org) -> None:
    review = org.review(org.engineer)
    rating_set_self(
        actor=org.engineer,
        review=review,
        ratings={"delivery": {"rating": 4, "justification": "Shipped the ledger"}},
    )
    with pytest.raises(ValidationFailed, match="missing: Technical quality"):
        review_submit_self(actor=org.engineer, review=review)
    rating_set_self(actor=org.engineer, review=review, ratings=ALL_MIDPOINT)
    review = review_submit_self(actor=org.engineer, review=review)
    assert review.state == State.SELF_SUBMITTED
    with pytest.raises(Conflict, match="the manager can return the self-review"):
        evidence_add(actor=org.engineer, review=review, url="https://x.example/late")


def test_invalid_rating_values(org: Org) -> None:
    review = org.review(org.engineer)
    with pytest.raises(ValidationFailed) as excinfo:
        rating_set_self(
            actor=org.engineer,
            review=review,
            ratings={"delivery": {"rating": 9}, "velocity": {"rating": 3}},
        )
    assert set(excinfo.value.errors) == {"ratings.delivery", "ratings.velocity"}
    assert not review.ratings.exists()


def submitted(org: Org) -> Review:
    review = org.review(org.engineer)
    evidence_add(
        actor=org.engineer,
        review=review,
        url="https://github.com/acme/pay/pull/1",
        dimensions=["delivery"],
    )
    rating_set_self(actor=org.engineer, review=review, ratings=ALL_MIDPOINT)
    review = review_submit_self(actor=org.engineer, review=review)
    org.advance("manager_review")
    return review


def test_manager_evidence_rule_names_each_dimension(org: Org) -> None:
    review = submitted(org)
    with pytest.raises(ValidationFailed) as excinfo:
        rating_set_manager(
            actor=org.manager,
            review=review,
            ratings={
                "delivery": {"rating": 5},  # evidence yes, justification no
                "reliability": {"rating": 1, "justification": "Two outages"},  # no evidence
                "mentoring": {"rating": 4, "justification": "Great"},  # no evidence
                "scope": {"rating": 3},  # midpoint: nothing needed
            },
        )
    errors = excinfo.value.errors
    assert set(errors) == {"ratings.delivery", "ratings.reliability", "ratings.mentoring"}
    assert errors["ratings.delivery"] == [
        "Delivery rated 5, away from the midpoint 3, needs a justification"
    ]
    assert (
        "an evidence item tagged to Reliability or a counterexample"
        in errors["ratings.reliability"][0]
    )
    assert "an evidence item tagged to Mentoring" in errors["ratings.mentoring"][0]
    assert not ScoreSnapshot.objects.exists()

    # A counterexample satisfies the rule for a low rating; evidence does for a high one.
    review = rating_set_manager(
        actor=org.manager,
        review=review,
        ratings={
            "delivery": {"rating": 5, "justification": "Shipped the ledger rewrite"},
            "reliability": {
                "rating": 1,
                "justification": "Two outages",
                "counterexample": "Skipped the rollback drill twice",
            },
        },
    )
    snapshot = ScoreSnapshot.objects.get()
    # (25·5 + 20·1) / 45 = 3.22…, capped by the reliability gate at 3.00
    assert snapshot.composite == 3
    assert snapshot.breakdown["capped"] is True
    assert snapshot.ratings == {"delivery": 5, "reliability": 1}


def test_skip_level_and_others_cannot_rate(org: Org) -> None:
    review = submitted(org)
    for user in (org.director, org.engineer, org.hr, org.peer):
        with pytest.raises(Forbidden):
            rating_set_manager(actor=user, review=review, ratings={"scope": {"rating": 3}})


def test_full_flow_with_return_and_audit(org: Org) -> None:
    review = org.review(org.engineer)
    rating_set_self(actor=org.engineer, review=review, ratings=ALL_MIDPOINT)
    review = review_submit_self(actor=org.engineer, review=review)
    with pytest.raises(ValidationFailed):
        review_return(actor=org.manager, review=review, reason=" ")
    review = review_return(actor=org.manager, review=review, reason="Add the incident follow-ups")
    assert review.state == State.DRAFT
    review = review_submit_self(actor=org.engineer, review=review)
    with pytest.raises(Conflict, match=r"Cannot rate: .* Now the manager can return"):
        rating_set_manager(actor=org.manager, review=review, ratings={"scope": {"rating": 3}})
    org.advance("manager_review")
    with pytest.raises(ValidationFailed, match="missing"):
        review_submit_manager(actor=org.manager, review=review)
    rating_set_manager(actor=org.manager, review=review, ratings=ALL_MIDPOINT)
    review = review_submit_manager(actor=org.manager, review=review)
    with pytest.raises(Conflict):
        review_finalize(actor=org.hr, review=review)
    org.advance("finalisation")
    with pytest.raises(Forbidden):
        review_finalize(actor=org.manager, review=review)
    review = review_finalize(actor=org.hr, review=review)
    review = review_acknowledge(actor=org.engineer, review=review)
    assert review.state == State.ACKNOWLEDGED
    transitions = list(
        AuditEvent.objects.filter(
            target_type="reviews.review",
            target_id=str(review.pk),
            action__startswith="reviews.review.",
        ).values_list("action", "payload__after__state")
    )
    assert transitions == [
        ("reviews.review.self_submitted", "self_submitted"),
        ("reviews.review.returned", "draft"),
        ("reviews.review.self_submitted", "self_submitted"),
        ("reviews.review.manager_submitted", "manager_submitted"),
        ("reviews.review.finalized", "finalized"),
        ("reviews.review.acknowledged", "acknowledged"),
    ]
    rating_event = AuditEvent.objects.get(action="reviews.rating.manager_changed")
    assert rating_event.payload["changes"]["delivery"] == {
        "before": {"rating": None, "justification": "", "counterexample": ""},
        "after": {"rating": 3, "justification": "", "counterexample": ""},
    }


def test_evidence_is_withdrawn_never_deleted(org: Org) -> None:
    review = submitted(org)
    item = review.evidence.get()
    with pytest.raises(ValidationFailed, match="Say why"):
        evidence_withdraw(actor=org.engineer, evidence=item)
    evidence_withdraw(actor=org.engineer, evidence=item, reason="Wrong PR")
    item = Evidence.objects.get(pk=item.pk)
    assert item.is_withdrawn and item.withdrawn_reason == "Wrong PR"
    with pytest.raises(Conflict):
        evidence_update(actor=org.engineer, evidence=item, title="x")


def test_snapshot_recomputes_identically_after_the_rubric_changes(org: Org) -> None:
    from rubrics.models import RubricVersion
    from rubrics.scoring import compute
    from rubrics.selectors import with_content
    from rubrics.services import rubric_import
    from tests.conftest import ladder

    review = submitted(org)
    rating_set_manager(
        actor=org.manager,
        review=review,
        ratings={
            **ALL_MIDPOINT,
            "delivery": {
                "rating": 4,
                "justification": "Ledger",
            },
        },
    )
    snapshot = ScoreSnapshot.objects.get()
    rubric_import(actor=org.hr, data=ladder(2), publish=True)  # weights change in v2
    version = with_content(RubricVersion.objects.all()).get(pk=snapshot.rubric_version_id)
    again = compute(
        dimensions=version.dimension_specs(),
        ratings=snapshot.ratings,
        scale=version.scale_spec(),
        rubric_version=version.number,
    )
    assert again.as_dict() == snapshot.breakdown
    assert snapshot.composite == again.composite


def test_a_reviews_audit_history_includes_its_evidence(org: Org) -> None:
    """HR filtering the audit log to one review sees evidence added, edited and withdrawn."""
    from tests.conftest import client_for

    review = org.review(org.engineer)
    item = evidence_add(actor=org.engineer, review=review, url="https://x.example/pr/7")
    evidence_update(actor=org.engineer, evidence=item, title="Payout retries")
    evidence_withdraw(actor=org.engineer, evidence=item)
    url = f"/api/audit/events/?target_type=reviews.review&target_id={review.pk}&area=reviews"
    events = [
        e for e in client_for(org.hr).get(url).json()["results"] if ".evidence." in e["action"]
    ]
    assert sorted((e["action"], e["payload"]["evidence"]) for e in events) == [
        ("reviews.evidence.added", item.pk),
        ("reviews.evidence.edited", item.pk),
        ("reviews.evidence.withdrawn", item.pk),
    ]
    edited = next(e for e in events if e["action"] == "reviews.evidence.edited")
    assert edited["payload"]["after"]["title"] == "Payout retries"


def test_recount_evidence_counts_evidence_written_in_bulk(org: Org) -> None:
    review = org.review(org.engineer)
    Evidence.objects.bulk_create(
        Evidence(review=review, url=f"https://x.example/{n}", kind="other", title=str(n))
        for n in range(3)
    )
    Evidence.objects.filter(url="https://x.example/0").update(withdrawn_at=timezone.now())
    recount_evidence([review.pk])
    review.refresh_from_db()
    assert review.evidence_count == 2
