"""Governance for the demo's metrics: three governed, one of them overdue its review and one
with a harm review waiting for HR's sign-off, so the governance page has something to act on."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from metrics.governance import governance_review_record, governed_metric_create
from metrics.models import GovernedMetric


def seed_governance(*, hr: Any) -> None:
    users = get_user_model().objects
    payments, platform = (
        users.get(username="manager.payments"),
        users.get(username="manager.platform"),
    )
    governed_metric_create(
        actor=hr,
        subject="team:lead_time",
        owner=payments,
        functions=["engineering", "product"],
        purpose="See how long a change waits between commit and production.",
        hypothesis="Shorter lead times predict fewer incidents per change and faster feedback.",
        limitations="Says nothing about the value of what shipped.",
        anti_gaming="Team-level only; never split work just to move it.",
        baseline=Decimal("20"),
        target_low=Decimal("2"),
        target_high=Decimal("24"),
        cadence="quarterly",
    )
    failure = governed_metric_create(
        actor=hr,
        subject="team:change_failure_rate",
        owner=platform,
        functions=["engineering"],
        purpose="See how often a deployment hurts users.",
        hypothesis="A lower rate predicts fewer customer-facing incidents.",
        limitations="Depends on how consistently incidents are filed.",
        anti_gaming="Never discourage filing incidents: a hidden incident is worse.",
        baseline=Decimal("15"),
        target_low=Decimal("0"),
        target_high=Decimal("15"),
        cadence="monthly",
    )
    # Governed two months ago and never reviewed: overdue.
    GovernedMetric.objects.filter(pk=failure.pk).update(
        governed_since=timezone.localdate() - datetime.timedelta(days=62)
    )
    delivery = governed_metric_create(
        actor=hr,
        subject="dimension:backend-engineering:delivery",
        owner=payments,
        functions=["engineering", "people"],
        purpose="Rate how reliably an engineer ships what matters.",
        hypothesis="Predicts the team's ability to meet commitments.",
        limitations="Hard to see for work that spans teams.",
        anti_gaming="Rate outcomes with evidence, never activity counts.",
        baseline=None,
        target_low=Decimal("2.5"),
        target_high=Decimal("3.5"),
        cadence="half_yearly",
    )
    governance_review_record(
        actor=payments,
        metric=delivery,
        kind="harm",
        findings="No avoidance seen; some engineers unsure whether on-call work counts.",
        decision="keep",
        harm={"avoidance": "no", "collaboration": "no", "visibility": "unsure", "gaming": "no"},
    )
