from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from calibration.models import CalibrationSession
from calibration.services import session_create
from reviews.models import Review
from reviews.services import (
    evidence_add,
    rating_set_manager,
    rating_set_overall,
    rating_set_self,
    review_submit_manager,
    review_submit_self,
)
from tests.factories import UserFactory
from tests.reviews.conftest import ALL_MIDPOINT, Org, build_org


@dataclass
class Calibration:
    org: Org
    facilitator: Any
    outsider_manager: Any
    session: CalibrationSession

    def review(self, user: Any) -> Review:
        return self.org.review(user)


def submit_for_calibration(org: Org, user: Any, delivery: int = 4) -> Review:
    review = org.review(user)
    evidence_add(
        actor=user,
        review=review,
        url=f"https://github.com/acme/pay/pull/{user.pk}",
        dimensions=["delivery"],
        title=f"PR by {user}",
    )
    rating_set_self(actor=user, review=review, ratings=ALL_MIDPOINT)
    return review_submit_self(actor=user, review=review)


@pytest.fixture
def cal(published: Any, hr: Any) -> Calibration:
    org = build_org(published, hr)
    for user in (org.engineer, org.peer):
        submit_for_calibration(org, user)
    org.advance("manager_review")
    for user, delivery in ((org.engineer, 4), (org.peer, 5)):
        review = org.review(user)
        rating_set_manager(
            actor=org.manager,
            review=review,
            ratings={
                **ALL_MIDPOINT,
                "delivery": {"rating": delivery, "justification": "Shipped the ledger"},
            },
        )
        rating_set_overall(actor=org.manager, review=review, overall=3, growth=4)
        review_submit_manager(actor=org.manager, review=review)
    facilitator = UserFactory(username="fatima", roles=["facilitator"])
    outsider_manager = UserFactory(username="not-invited", roles=["manager"])
    session = session_create(
        actor=org.hr,
        cycle=org.cycle,
        name="Payments H2",
        facilitator=facilitator,
        managers=[org.manager],
        observers=[org.hr],
        teams=[org.review(org.engineer).team],
    )
    return Calibration(org, facilitator, outsider_manager, session)
