"""Appeals, the engineer's calibration history, process health, and the audit API."""

from __future__ import annotations

from typing import Any

from audit.models import AuditEvent
from audit.tasks import verify_audit_chain
from reviews.models import DimensionRating, ScoreSnapshot
from reviews.services import review_acknowledge, review_finalize
from tests.calibration.conftest import Calibration
from tests.conftest import client_for


def calibrate_and_finalise(cal: Calibration) -> Any:
    facilitator = client_for(cal.facilitator)
    base = f"/api/calibration/sessions/{cal.session.pk}"
    assert facilitator.post(f"{base}/open/").status_code == 200
    review = cal.review(cal.org.engineer)
    made = facilitator.post(
        f"{base}/adjustments/",
        {
            "review": review.pk,
            "dimension": "delivery",
            "rating": 5,
            "rationale": "The ledger rewrite is staff-level scope",
            "evidence": [review.evidence.get().pk],
        },
        format="json",
    )
    assert made.status_code == 201
    assert facilitator.post(f"{base}/close/").status_code == 200
    cal.org.advance("finalisation")
    review = review_finalize(actor=cal.org.hr, review=cal.review(cal.org.engineer))
    return review


def test_engineer_sees_calibration_history_only_after_finalisation(cal: Calibration) -> None:
    review = cal.review(cal.org.engineer)
    engineer = client_for(cal.org.engineer)
    hidden = engineer.get(f"/api/reviews/{review.pk}/calibration-history/").json()
    assert hidden["visible"] is False and hidden["events"] == []
    calibrate_and_finalise(cal)
    history = engineer.get(f"/api/reviews/{review.pk}/calibration-history/").json()
    assert history["visible"] is True
    [event] = history["events"]
    assert (event["before"], event["after"], event["actor"]) == (4, 5, "fatima")
    assert event["rationale"] == "The ledger rewrite is staff-level scope"
    assert (
        client_for(cal.org.stranger)
        .get(f"/api/reviews/{review.pk}/calibration-history/")
        .status_code
        == 404
    )


def test_appeal_and_resolution(cal: Calibration) -> None:
    review = calibrate_and_finalise(cal)
    engineer, hr = client_for(cal.org.engineer), client_for(cal.org.hr)
    bad = engineer.post(
        f"/api/reviews/{review.pk}/appeals/", {"dimension": "scope", "reason": "no"}, format="json"
    )
    assert bad.status_code == 400 and "reason" in bad.json()["errors"]
    appeal = engineer.post(
        f"/api/reviews/{review.pk}/appeals/",
        {"dimension": "scope", "reason": "I owned the payouts roadmap for the whole half"},
        format="json",
    )
    assert appeal.status_code == 201 and appeal.json()["before"] == 3
    appeal_id = appeal.json()["id"]
    assert (
        client_for(cal.org.manager)
        .post(
            f"/api/appeals/{appeal_id}/resolve/",
            {"outcome": "changed", "resolution": "x", "new_rating": 4},
            format="json",
        )
        .status_code
        == 404
    )
    resolved = hr.post(
        f"/api/appeals/{appeal_id}/resolve/",
        {"outcome": "changed", "resolution": "The roadmap doc shows L5 scope", "new_rating": 4},
        format="json",
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "changed"
    assert DimensionRating.objects.get(review=review, dimension_key="scope").manager_rating == 4
    assert ScoreSnapshot.objects.filter(review=review, reason="appeal").exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="reviews.appeal").values_list(
            "action", flat=True
        )
    )
    assert actions == ["reviews.appeal.opened", "reviews.appeal.resolved"]
    assert [a["status"] for a in engineer.get("/api/appeals/").json()] == ["changed"]


def test_cycle_health(cal: Calibration) -> None:
    review = calibrate_and_finalise(cal)
    review_acknowledge(actor=cal.org.engineer, review=review)
    hr = client_for(cal.org.hr)
    health = hr.get(f"/api/cycles/{cal.org.cycle.pk}/health/").json()
    assert health["reviews"] == 4
    assert health["completion"]["self_review"] == 0.5  # 2 of 4 submitted their self-review
    assert health["completion"]["finalisation"] == 0.25
    assert health["changes"] == 1 and health["share_of_changes_with_evidence"] == 1.0
    assert health["changes_per_session"][0]["changes"] == 1
    assert health["calibration_variance"]["before"]["mean_spread_within_managers"] is not None
    assert (
        client_for(cal.org.manager).get(f"/api/cycles/{cal.org.cycle.pk}/health/").status_code
        == 404
    )


def test_audit_api_is_hr_only_and_filterable(cal: Calibration) -> None:
    calibrate_and_finalise(cal)
    review = cal.review(cal.org.engineer)
    hr = client_for(cal.org.hr)
    events = hr.get(f"/api/audit/events/?target_type=reviews.review&target_id={review.pk}").json()
    actions = [e["action"] for e in events["results"]]
    assert "calibration.adjustment.made" in actions and "reviews.review.finalized" in actions
    by_actor = hr.get("/api/audit/events/?actor=fatima&area=calibration").json()["results"]
    assert by_actor and {e["action"].split(".")[0] for e in by_actor} == {"calibration"}
    one = hr.get("/api/audit/events/?action=calibration.adjustment.made").json()["results"]
    assert [e["sentence"] for e in one] == ["changed a rating in calibration"]
    unknown = hr.get("/api/audit/events/?action=calibration.")
    assert unknown.status_code == 400 and "action" in unknown.json()["errors"]
    assert by_actor and {e["actor"] for e in by_actor} == {"fatima"}
    verify_audit_chain()  # in the background, as celery beat runs it: never on a request
    assert hr.get("/api/audit/chain/").json()["ok"] is True
    for user in (cal.org.manager, cal.org.engineer, cal.facilitator):
        assert client_for(user).get("/api/audit/events/").status_code == 403


def test_history_page_and_appeal_form(cal: Calibration) -> None:
    from django.test import Client

    review = cal.review(cal.org.engineer)
    client = Client()
    client.force_login(cal.org.engineer)
    hidden = client.get(f"/calibration/reviews/{review.pk}/history/").content.decode()
    assert 'id="history-hidden"' in hidden
    calibrate_and_finalise(cal)
    page = client.get(f"/calibration/reviews/{review.pk}/history/").content.decode()
    assert "Delivery: 4 → 5" in page and "staff-level scope" in page
    bad = client.post(
        f"/calibration/reviews/{review.pk}/history/", {"dimension": "scope", "reason": "no"}
    )
    assert bad.status_code == 400 and 'role="alert"' in bad.content.decode()
    ok = client.post(
        f"/calibration/reviews/{review.pk}/history/",
        {"dimension": "scope", "reason": "I owned the payouts roadmap all half long"},
    )
    assert ok.status_code == 302
    assert review.appeals.get().dimension_key == "scope"
    stranger = Client()
    stranger.force_login(cal.org.stranger)
    assert stranger.get(f"/calibration/reviews/{review.pk}/history/").status_code == 404
