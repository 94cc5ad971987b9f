"""core.bulk.insert_all: what goes in comes back, on PostgreSQL (COPY) as on SQLite."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from core.bulk import insert_all
from reviews.models import ScoreSnapshot
from tests.reviews.conftest import Org

AWKWARD = 'tab\there, new\nline, back\\slash, "quotes", ünïcödé, {braces}, [brackets], \\N'


def test_rows_come_back_as_they_went_in(org: Org) -> None:
    review, version = org.review(org.engineer), org.cycle.rubric_version
    before = timezone.now()
    rows = [
        ScoreSnapshot(
            review=review,
            rubric_version=version,
            formula_version=f"v{n}",
            ratings={"delivery": n, "scope": None},
            breakdown={"note": AWKWARD, "terms": [{"key": "delivery", "weight": "0.25"}], "n": n},
            composite=Decimal("3.25") if n else None,
            reason=ScoreSnapshot.Reason.RECOMPUTE,
        )
        for n in range(3)
    ]
    insert_all(rows)
    insert_all([])  # nothing to insert is no error
    stored: list[Any] = list(ScoreSnapshot.objects.order_by("formula_version"))
    assert [s.formula_version for s in stored] == ["v0", "v1", "v2"]
    for n, snapshot in enumerate(stored):
        assert snapshot.review_id == review.pk and snapshot.rubric_version_id == version.pk
        assert snapshot.ratings == {"delivery": n, "scope": None}
        assert snapshot.breakdown["note"] == AWKWARD and snapshot.breakdown["n"] == n
        assert snapshot.composite == (Decimal("3.25") if n else None)
        assert snapshot.reason == ScoreSnapshot.Reason.RECOMPUTE
        assert before <= snapshot.created_at <= timezone.now() + datetime.timedelta(seconds=1)
