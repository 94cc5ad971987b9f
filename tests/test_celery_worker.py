"""A real Celery worker, against Redis, runs a task over the real test database."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from audit.services import record
from audit.tasks import verify_audit_chain
from core.actors import system_actor
from tests.audit.actions import TEST_EVENT

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _database_url_for_subprocess() -> str:
    """The URL of the database this test run uses (the test database, not the real one)."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        user = db["USER"] or "postgres"
        return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return f"sqlite:///{db['NAME']}"


@pytest.fixture
def worker() -> Iterator[str]:
    if not settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL=redis://127.0.0.1:6379/0")
    queue = f"levelset-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url_for_subprocess(),
        "CELERY_QUEUE": queue,
        "AUDIT_CHECKPOINTS": settings.AUDIT_CHECKPOINTS,  # this test's own store
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queue,
            "--pool=solo",
            "-n",
            f"{queue}@%h",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield queue
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


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
