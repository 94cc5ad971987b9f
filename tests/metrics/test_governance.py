"""Metric governance: HR sets out how a metric is governed (a target range, never a quota, and
a cadence from a fixed set); reviews and harm reviews are recorded by the owner or HR and act
once both signed; the calendar says what is due and overdue; overdue owners are told."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from core.errors import Conflict, Forbidden, ValidationFailed
from metrics import governance as gov
from metrics.models import GovernanceReview, GovernedMetric, months_after
from notify.models import Notification
from rubrics.models import RubricVersion
from tests.metrics.conftest import govern

HARM = {"avoidance": "no", "collaboration": "unsure", "visibility": "no", "gaming": "yes"}


def test_a_metric_is_governed_with_a_range_and_a_cadence(hr: Any, engineer: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        govern(
            hr,
            engineer,
            subject="team:lines",
            target_low=Decimal(5),
            target_high=Decimal(5),
            cadence="whenever",
            hypothesis=" ",
            functions=[],
        )
    assert set(caught.value.errors) == {
        "subject",
        "target_high",
        "cadence",
        "hypothesis",
        "functions",
    }
    assert "never a single quota" in caught.value.errors["target_high"][0]
    with pytest.raises(Forbidden):
        govern(engineer, engineer)
    metric = govern(hr, engineer)
    assert metric.name == "Team · Lead time for changes" and metric.functions == [
        "engineering",
        "product",
    ]
    with pytest.raises(ValidationFailed, match="governed already"):
        govern(hr, engineer)
    assert AuditEvent.objects.filter(action="metrics.governance.created").count() == 1


def test_a_review_acts_once_the_owner_and_hr_signed_it(
    hr: Any, hr2: Any, engineer: Any, manager: Any
) -> None:
    metric = govern(hr, engineer)
    with pytest.raises(Forbidden):
        gov.governance_review_record(
            actor=manager, metric=metric, kind="metric", findings="x", decision="keep"
        )
    with pytest.raises(ValidationFailed) as caught:
        gov.governance_review_record(
            actor=engineer,
            metric=metric,
            kind="harm",
            findings=" ",
            decision="drop",
            harm={"avoidance": "maybe"},
        )
    assert set(caught.value.errors) == {
        "findings",
        "decision",
        "harm.avoidance",
        "harm.collaboration",
        "harm.visibility",
        "harm.gaming",
    }
    review = gov.governance_review_record(
        actor=engineer,
        metric=metric,
        kind="harm",
        findings="Gaming seen: small PRs split.",
        decision="retire",
        harm=HARM,
    )
    assert review.owner_signed_at and not review.hr_signed_at and not review.signed_off
    assert GovernedMetric.objects.get().retired_at is None  # not yet: HR has not signed
    with pytest.raises(Forbidden):
        gov.governance_review_sign(actor=engineer, review=review)  # signed already
    review = gov.governance_review_sign(actor=hr2, review=review)
    assert review.signed_off and review.hr_signed_by == hr2
    assert GovernedMetric.objects.get().retired_at is not None
    assert [(m.name, r.findings) for m, r in gov.pruning_log()] == [
        ("Team · Lead time for changes", "Gaming seen: small PRs split.")
    ]
    assert gov.calendar_of_reviews() == []  # a retired metric is reviewed no more
    with pytest.raises(Conflict):
        gov.governance_review_record(
            actor=hr, metric=metric, kind="metric", findings="x", decision="keep"
        )


def test_changing_a_dimension_starts_the_rubrics_next_draft(
    hr: Any, published: Any, engineer: Any
) -> None:
    metric = govern(hr, hr, subject="dimension:backend-engineering:delivery")
    assert metric.name.endswith("· Delivery")
    gov.governance_review_record(
        actor=hr, metric=metric, kind="metric", findings="Anchors too vague.", decision="change"
    )
    draft = RubricVersion.objects.get(
        rubric__slug="backend-engineering", status=RubricVersion.Status.DRAFT
    )
    assert draft.number == published.number + 1


def test_the_calendar_says_what_is_due_and_tells_overdue_owners(hr: Any, engineer: Any) -> None:
    metric = govern(hr, engineer, cadence="monthly")
    today = timezone.localdate()
    (row,) = gov.calendar_of_reviews()
    assert row.due == months_after(today, 1) and not row.overdue and row.last is None
    GovernedMetric.objects.filter(pk=metric.pk).update(
        governed_since=today - datetime.timedelta(days=70)
    )
    (row,) = gov.calendar_of_reviews()
    assert row.overdue
    assert gov.tell_overdue_owners() == 1 and gov.tell_overdue_owners() == 0  # once per due date
    told = Notification.objects.get(recipient=engineer)
    assert "governance review was due" in told.title
    review = gov.governance_review_record(
        actor=hr, metric=metric, kind="metric", findings="Still useful.", decision="keep"
    )
    gov.governance_review_sign(actor=engineer, review=review)
    (row,) = gov.calendar_of_reviews()
    assert row.last == review and row.due == months_after(today, 1) and not row.overdue


def test_months_after_keeps_the_day_or_the_months_last() -> None:
    assert months_after(datetime.date(2026, 1, 31), 1) == datetime.date(2026, 2, 28)
    assert months_after(datetime.date(2026, 11, 15), 3) == datetime.date(2027, 2, 15)
    assert months_after(datetime.date(2026, 8, 31), 6) == datetime.date(2027, 2, 28)


def test_the_governance_page_is_hrs(hr: Any, engineer: Any, manager: Any) -> None:
    metric = govern(hr, engineer)
    client = Client()
    client.force_login(hr)
    page = client.get("/metrics/governance/").content.decode()
    assert "Team · Lead time for changes" in page and "Nothing is overdue." in page
    refused = client.post(
        "/metrics/governance/",
        {"subject": "team:lead_time", "owner": "nobody", "target_low": "9", "target_high": "1"},
    )
    assert refused.status_code == 400
    assert "Nobody active is called" in refused.content.decode()
    done = client.post(
        "/metrics/governance/",
        {
            "subject": "team:time_to_restore",
            "owner": engineer.username,
            "functions": ["engineering"],
            "purpose": "Recovery.",
            "hypothesis": "Predicts customer impact.",
            "target_low": "0.5",
            "target_high": "4",
            "cadence": "half_yearly",
        },
    )
    assert done.status_code == 302 and GovernedMetric.objects.count() == 2
    owner = Client()
    owner.force_login(engineer)
    assert owner.get("/metrics/governance/").status_code == 404
    assert owner.get(f"/metrics/governance/{metric.pk}/review/").status_code == 200
    recorded = owner.post(
        f"/metrics/governance/{metric.pk}/review/",
        {"kind": "metric", "findings": "Fine.", "decision": "keep"},
    )
    assert recorded.status_code == 302
    review = GovernanceReview.objects.get()
    assert client.post(f"/metrics/governance/reviews/{review.pk}/sign/").status_code == 302
    review.refresh_from_db()
    assert review.signed_off
    other = Client()
    other.force_login(manager)
    assert other.get(f"/metrics/governance/{metric.pk}/review/").status_code == 404


def test_the_rubric_page_fetches_its_overdue_dimensions(
    hr: Any, published: Any, engineer: Any
) -> None:
    metric = govern(hr, hr, subject="dimension:backend-engineering:delivery", cadence="monthly")
    client = Client()
    client.force_login(hr)
    page = client.get("/rubrics/backend-engineering/").content.decode()
    assert 'hx-get="/metrics/governance/rubrics/backend-engineering/"' in page
    fragment = client.get("/metrics/governance/rubrics/backend-engineering/").content.decode()
    assert "within its review cadence" in fragment
    GovernedMetric.objects.filter(pk=metric.pk).update(
        governed_since=timezone.localdate() - datetime.timedelta(days=40)
    )
    fragment = client.get("/metrics/governance/rubrics/backend-engineering/").content.decode()
    assert (
        "Governance overdue: Backend engineering · Delivery" in fragment
        or "Governance overdue:" in fragment
    )
    engineer_client = Client()
    engineer_client.force_login(engineer)
    assert (
        engineer_client.get("/metrics/governance/rubrics/backend-engineering/").status_code == 404
    )


def test_a_harm_review_names_each_unanswered_question_beside_it(hr: Any, engineer: Any) -> None:
    metric = govern(hr, engineer)
    client = Client()
    client.force_login(engineer)
    url = f"/metrics/governance/{metric.pk}/review/"
    page = client.post(
        url, {"kind": "harm", "findings": "Looked.", "decision": "keep", "harm_gaming": "yes"}
    )
    assert page.status_code == 400
    html = page.content.decode()
    assert html.count("A harm review answers every question.") == 3  # gaming was answered
    assert not GovernanceReview.objects.exists()
