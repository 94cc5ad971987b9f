"""A realistic promotion case for packet tests and benchmarks, built through the services."""

from __future__ import annotations

import datetime
from typing import Any

from promotions.models import PromotionCase
from promotions.services import case_nominate, case_update
from reviews.evidence import EvidenceKind
from reviews.models import Review
from reviews.services import (
    cycle_create,
    cycle_open,
    evidence_add,
    rating_set_manager,
    rating_set_self,
    review_submit_manager,
    review_submit_self,
)
from tests.reviews.conftest import ALL_MIDPOINT, build_org

KINDS = [
    (
        "https://github.com/acme/payments/pull/{n}",
        EvidenceKind.PULL_REQUEST,
        "Idempotent payouts, part {n}",
    ),
    (
        "https://wiki.acme.io/postmortems/{n}",
        EvidenceKind.POSTMORTEM,
        "Postmortem {n}: payout delays",
    ),
    ("https://docs.acme.io/design/ledger-{n}", EvidenceKind.DESIGN_DOC, "Ledger design doc {n}"),
    ("https://wiki.acme.io/mentoring/{n}", EvidenceKind.MENTORING, "Mentoring plan {n}"),
    ("https://grafana.acme.io/d/slo-{n}", EvidenceKind.OBSERVABILITY, "Payout SLO dashboard {n}"),
]
DIMENSIONS = ["delivery", "technical_quality", "reliability", "collaboration", "mentoring", "scope"]


def build_case(published: Any, hr: Any, *, evidence: int = 10) -> tuple[PromotionCase, Any]:
    org = build_org(published, hr)
    earlier = cycle_create(
        actor=hr,
        name="2026 H1",
        rubric_version=published,
        self_review_ends=datetime.date(2026, 5, 1),
        manager_review_ends=datetime.date(2026, 5, 15),
        calibration_ends=datetime.date(2026, 5, 29),
        finalisation_ends=datetime.date(2026, 6, 12),
    )
    earlier = cycle_open(actor=hr, cycle=earlier)
    reviews = [
        Review.objects.get(cycle=earlier, engineer__user=org.engineer),
        org.review(org.engineer),
    ]
    items = []
    for n in range(evidence):
        url, _kind, title = KINDS[n % len(KINDS)]
        items.append(
            evidence_add(
                actor=org.engineer,
                review=reviews[(n + 1) % 2],
                url=url.format(n=n),
                title=title.format(n=n),
                # The first item backs the manager's above-midpoint ratings (the evidence rule).
                dimensions=["delivery", "scope"]
                if n == 0
                else [DIMENSIONS[n % 6], DIMENSIONS[(n + 2) % 6]],
                contribution="Designed it, wrote most of the code and ran the rollout.",
                occurred_on=datetime.date(2026, 1 + n % 10, 1 + n % 27),
            )
        )
    review = reviews[1]
    rating_set_self(actor=org.engineer, review=review, ratings=ALL_MIDPOINT)
    review_submit_self(actor=org.engineer, review=review)
    org.advance("manager_review")
    rating_set_manager(
        actor=org.manager,
        review=review,
        ratings={
            **ALL_MIDPOINT,
            "delivery": {"rating": 4, "justification": "Shipped the ledger rewrite early."},
            "scope": {"rating": 4, "justification": "Owned payouts across teams."},
        },
    )
    review_submit_manager(actor=org.manager, review=review)
    case = case_nominate(
        actor=org.manager,
        engineer=org.engineer.engineer,
        cycle=org.cycle,
        target_level="L5",
        summary="Ada **operates at L5** on scope and reliability.",
    )
    ids = [item.pk for item in items]
    narratives = {
        "scope": "Owned the **payouts platform** across three teams:\n\n- ledger rewrite\n- SLOs",
        "complexity": "Untangled the double-entry ledger migration with zero downtime.",
        "consistency": "Delivered at this level in **both halves** of the year.",
    }
    for i, (axis, text) in enumerate(narratives.items()):
        case_update(
            actor=org.manager,
            case=case,
            axis=axis,
            rating=4,
            narrative=text,
            evidence_ids=ids[i::3] if axis != "consistency" else ids[:4],
        )
    return PromotionCase.objects.get(pk=case.pk), org.manager
