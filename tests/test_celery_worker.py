"""A real Celery worker, against Redis, runs a task over the real test database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from audit.services import record
from audit.tasks import verify_audit_chain
from core.actors import system_actor
from tests.audit.actions import TEST_EVENT
from tests.workers import private_queue, start_worker, stop_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker() -> Iterator[str]:
    queue = private_queue()
    process = start_worker(queue)
    try:
        yield queue
    finally:
        stop_worker(process)


def test_worker_verifies_the_audit_chain(worker: str) -> None:
    for i in range(3):
        record(actor=system_actor(), action=TEST_EVENT, target_type="t", target_id=i)
    result = verify_audit_chain.apply_async(queue=worker).get(timeout=60)
    assert result == {"ok": True, "count": 3, "message": "OK: 3 events, chain intact"}


def test_worker_recomputes_a_cycles_scores(worker: str, published: object, hr: object) -> None:
    from reviews.models import ScoreSnapshot
    from reviews.services import rating_set_manager, rating_set_self, review_submit_self
    from reviews.tasks import recompute_cycle_scores
    from tests.reviews.conftest import ALL_MIDPOINT, build_org

    org = build_org(published, hr)

    for user in (org.engineer, org.peer):
        review = org.review(user)
        rating_set_self(actor=user, review=review, ratings=ALL_MIDPOINT)
        review_submit_self(actor=user, review=review)
    org.advance("manager_review")
    for user in (org.engineer, org.peer):
        rating_set_manager(actor=org.manager, review=org.review(user), ratings=ALL_MIDPOINT)
    # Scores stored under an older formula are out of date: the worker recomputes them, once.
    ScoreSnapshot.objects.update(formula_version="weighted-mean-gated/0")
    before = ScoreSnapshot.objects.count()
    result = recompute_cycle_scores.apply_async(args=[org.cycle.pk, org.hr.pk], queue=worker)
    assert result.get(timeout=60) == 2
    assert ScoreSnapshot.objects.count() == before + 2
    again = recompute_cycle_scores.apply_async(args=[org.cycle.pk, org.hr.pk], queue=worker)
    assert again.get(timeout=60) == 0
    assert set(
        ScoreSnapshot.objects.filter(reason="recompute").values_list("composite", flat=True)
    ) == {3}
