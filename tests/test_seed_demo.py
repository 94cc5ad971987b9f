from __future__ import annotations

from io import StringIO

from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.test import RequestFactory

from audit.services import verify_chain
from core import workflow
from people.models import Engineer, Team
from reviews.models import Evidence, Review, ReviewCycle, ScoreSnapshot, TeamMetrics
from rubrics.models import RubricVersion


def test_seed_demo_builds_the_demo_organisation(db: None) -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "levelset-demo" in out.getvalue()
    assert Team.objects.count() == 6
    engineers = Engineer.objects.filter(user__groups__name="engineer")
    assert engineers.count() == 60
    assert all(e.manager is not None for e in engineers.select_related("manager"))
    assert get_user_model().objects.filter(groups__name="hr").count() == 2
    assert get_user_model().objects.filter(groups__name="facilitator").count() == 1
    statuses = dict(RubricVersion.objects.values_list("number", "status"))
    assert statuses == {1: "retired", 2: "published", 3: "draft"}
    assert verify_chain().ok
    states = set(Review.objects.filter(cycle__name="2026 H2").values_list("state", flat=True))
    # The open session's board holds the submitted manager reviews of its teams.
    assert states == {"draft", "self_submitted", "manager_submitted", "in_calibration"}
    # A second cycle, for the teams that joined later, is in its self-review phase.
    writing = ReviewCycle.objects.get(name="2026 H2 — Mobile and Identity")
    assert writing.phase == "self_review"
    assert sorted(writing.teams.values_list("slug", flat=True)) == ["identity", "mobile"]
    assert set(writing.reviews.values_list("state", flat=True)) == {"draft", "self_submitted"}
    assert writing.reviews.exclude(returned_reason="").get().engineer.user.username == "eng32"
    users = get_user_model().objects
    for username in ("eng31", "eng32"):
        review = writing.reviews.get(engineer__user__username=username)
        allowed = workflow.allowed_actions(review, users.get(username=username))
        assert {"edit_self_review", "submit_self"} <= set(allowed)
    assert "self-review open" in out.getvalue() and "eng31" in out.getvalue()
    past = set(Review.objects.filter(cycle__name="2026 H1").values_list("state", flat=True))
    assert past == {"finalized", "acknowledged"}
    assert Evidence.objects.filter(review__cycle__name="2026 H2").count() >= 100
    assert TeamMetrics.objects.count() == 12
    assert ScoreSnapshot.objects.exists()
    from calibration.models import Adjustment, Appeal, CalibrationSession

    assert set(CalibrationSession.objects.values_list("status", flat=True)) == {"open", "closed"}
    assert Adjustment.objects.filter(session__status="open").exists()
    assert set(Appeal.objects.values_list("status", flat=True)) == {"open", "changed"}
    from promotions.models import PromotionCase

    assert set(PromotionCase.objects.values_list("status", flat=True)) == {
        "draft",
        "submitted",
        "decided",
    }
    decided = PromotionCase.objects.filter(status="decided")
    assert set(decided.values_list("outcome", flat=True)) == {"promoted", "not_yet"}
    cycles = {
        e.review.cycle_id for e in decided.first().axes.get(axis="consistency").evidence.all()
    }
    assert len(cycles) == 2
    signing_in = RequestFactory().post("/login/")
    assert authenticate(signing_in, username="eng01", password="levelset-demo") is not None

    # Deterministic and safe to run twice.
    names = list(get_user_model().objects.order_by("username").values_list("username", "last_name"))
    call_command("seed_demo", "--quiet", stdout=StringIO())
    assert (
        list(get_user_model().objects.order_by("username").values_list("username", "last_name"))
        == names
    )
    assert RubricVersion.objects.count() == 3
    assert ReviewCycle.objects.count() == 3
