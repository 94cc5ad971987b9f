"""Migrating a seeded database forward loses no row.

The database is built as it stood before teams, engineers and promotion cases moved to apps
of their own (people, promotions) and before reviews on an open board got their own state;
it is filled through the historical models, then migrated to the newest schema. Every table
keeps its rows, moved models answer from their new apps with their relations intact, and a
review on an open calibration board is now "on a calibration board".
"""

from __future__ import annotations

import datetime
import hashlib
import importlib
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from audit import keys
from audit.services import verify_chain

# The schema before the moves. (The library applies every migration that comes before the
# latest of these in the full plan, so no later node may be named here.)
BEFORE = [
    ("audit", "0003_chain_checks"),
    ("rubrics", "0001_initial"),
    ("reviews", "0006_engineer_hr_attribute"),
    ("calibration", "0002_promotion_cases_and_packets"),
]
AFTER = [
    ("audit", "0006_indexes_for_every_filter"),
    ("rubrics", "0001_initial"),
    ("people", "0001_initial"),
    ("reviews", "0008_review_returns_and_calibration_boards"),
    ("calibration", "0005_appeal_status_machine"),
    ("promotions", "0002_export_status_machine"),
]
TABLES = [
    "reviews_team",
    "reviews_engineer",
    "reviews_reviewcycle",
    "reviews_review",
    "reviews_evidence",
    "reviews_dimensionrating",
    "reviews_scoresnapshot",
    "calibration_calibrationsession",
    "calibration_calibrationsession_scope_teams",
    "calibration_sessionreview",
    "calibration_adjustment",
    "calibration_appeal",
    "calibration_promotioncase",
    "calibration_promotioncase_committee",
    "calibration_readinessaxis",
    "calibration_readinessaxis_evidence",
    "calibration_promotionpacket",
    "calibration_exportjob",
]


def _counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for table in TABLES:
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    return counts


def _seed(apps: Any) -> dict[str, Any]:
    """A small organisation, a cycle with an open and a closed board, an appeal and a
    promotion case with its packet and export job, through the historical models."""
    user = apps.get_model("auth", "User")
    people = {
        name: user.objects.create(username=name, first_name=name.title())
        for name in ("hr", "fatima", "director", "manager", "ada", "ben", "chair")
    }
    team = apps.get_model("reviews", "Team").objects.create(slug="payments", name="Payments")
    engineer = apps.get_model("reviews", "Engineer")
    start = datetime.date(2022, 1, 1)
    engineers = {
        name: engineer.objects.create(
            user=people[name], team=team, level_code=level, manager=people[boss], start_date=start
        )
        for name, level, boss in (
            ("manager", "L5", "director"),
            ("ada", "L4", "manager"),
            ("ben", "L3", "manager"),
        )
    }
    rubric = apps.get_model("rubrics", "Rubric").objects.create(slug="backend", name="Backend")
    version = apps.get_model("rubrics", "RubricVersion").objects.create(
        rubric=rubric, number=1, status="draft"
    )
    cycle = apps.get_model("reviews", "ReviewCycle").objects.create(
        name="2026 H2",
        rubric_version=version,
        phase="calibration",
        self_review_ends=datetime.date(2026, 11, 1),
        manager_review_ends=datetime.date(2026, 11, 15),
        calibration_ends=datetime.date(2026, 11, 29),
        finalisation_ends=datetime.date(2026, 12, 13),
    )
    review_model = apps.get_model("reviews", "Review")
    reviews = {
        name: review_model.objects.create(
            cycle=cycle,
            engineer=engineers[name],
            team=team,
            level_code=engineers[name].level_code,
            manager=people["manager"],
            state=state,
        )
        for name, state in (("ada", "manager_submitted"), ("ben", "finalized"))
    }
    evidence = apps.get_model("reviews", "Evidence").objects.create(
        review=reviews["ada"],
        kind="pull_request",
        url="https://github.com/acme/pay/pull/1",
        title="Ledger",
        dimensions=["delivery"],
    )
    for review in reviews.values():
        apps.get_model("reviews", "DimensionRating").objects.create(
            review=review, dimension_key="delivery", self_rating=4, manager_rating=4
        )
        apps.get_model("reviews", "ScoreSnapshot").objects.create(
            review=review,
            rubric_version=version,
            formula_version="weighted-mean-gated/1",
            ratings={"delivery": 4},
            breakdown={},
            composite=Decimal("4.00"),
            reason="manager_rating",
        )
    session_model = apps.get_model("calibration", "CalibrationSession")
    open_session = session_model.objects.create(
        cycle=cycle, name="Payments H2", facilitator=people["fatima"], status="open"
    )
    open_session.scope_teams.add(team)
    closed = session_model.objects.create(
        cycle=cycle, name="Earlier", facilitator=people["fatima"], status="closed"
    )
    board = apps.get_model("calibration", "SessionReview")
    board.objects.create(session=open_session, review=reviews["ada"], active=True)
    board.objects.create(session=closed, review=reviews["ben"], active=False)
    apps.get_model("calibration", "Adjustment").objects.create(
        session=open_session,
        review=reviews["ada"],
        dimension_key="delivery",
        before=4,
        after=5,
        rationale="Led the ledger rewrite.",
        actor=people["fatima"],
    )
    apps.get_model("calibration", "Appeal").objects.create(
        review=reviews["ben"], dimension_key="delivery", reason="It was more.", before=4
    )
    case = apps.get_model("calibration", "PromotionCase").objects.create(
        engineer=engineers["ada"],
        cycle=cycle,
        current_level="L4",
        target_level="L5",
        nominated_by=people["manager"],
        status="submitted",
    )
    case.committee.add(people["chair"])
    axis = apps.get_model("calibration", "ReadinessAxis").objects.create(case=case, axis="scope")
    axis.evidence.add(evidence)
    packet = apps.get_model("calibration", "PromotionPacket").objects.create(
        case=case, content_hash="a" * 64, sha256="b" * 64, path="/tmp/x.pdf", pages=6, size=1
    )
    apps.get_model("calibration", "ExportJob").objects.create(
        id=uuid.uuid4(), case=case, status="done", packet=packet, requested_by=people["manager"]
    )
    return {"ada": reviews["ada"].pk, "ben": reviews["ben"].pk, "case": case.pk}


def _seed_audit(apps: Any, actor: Any) -> None:
    """Three events chained with plain SHA-256, as the log was before it was keyed."""
    keyed = importlib.import_module("audit.migrations.0004_keyed_events_and_truncate_guard")
    event_model = apps.get_model("audit", "AuditEvent")
    prev = keyed.GENESIS_HASH
    for seq in (1, 2, 3):
        event = event_model(
            seq=seq,
            created_at=timezone.now(),
            actor=actor,
            actor_repr=actor.username,
            action="reviews.cycle.created",
            target_type="reviews.reviewcycle",
            target_id="1",
            payload={"n": seq},
            prev_hash=prev,
        )
        event.hash = hashlib.sha256(keyed._content(event, prev)).hexdigest()
        event.save()
        prev = event.hash


@pytest.mark.django_db(transaction=True)
def test_migrating_a_seeded_database_forward_loses_no_row(migrator_factory: Any) -> None:
    migrator = migrator_factory()
    old = migrator.apply_initial_migration(BEFORE)
    ids = _seed(old.apps)
    before = _counts()
    assert all(before.values()), before  # every table holds something to lose

    new = migrator.apply_tested_migration(AFTER)
    assert _counts() == before

    engineer = new.apps.get_model("people", "Engineer").objects.get(user__username="ada")
    assert (engineer.team.slug, engineer.manager.username) == ("payments", "manager")
    review = new.apps.get_model("reviews", "Review")
    ada, ben = review.objects.get(pk=ids["ada"]), review.objects.get(pk=ids["ben"])
    # Ada is on the open board: she is now "on a calibration board", naming it; Ben's board
    # closed, so his review keeps its state.
    assert ada.state == "in_calibration" and "Payments H2" in ada.calibration_board
    assert ben.state == "finalized" and ben.calibration_board == ""
    case = new.apps.get_model("promotions", "PromotionCase").objects.get(pk=ids["case"])
    assert [u.username for u in case.committee.all()] == ["chair"]
    assert case.axes.get().evidence.get().url == "https://github.com/acme/pay/pull/1"
    assert case.packets.get().pages == 6
    assert new.apps.get_model("promotions", "ExportJob").objects.get().packet_id is not None
    session = new.apps.get_model("calibration", "CalibrationSession").objects.get(
        name="Payments H2"
    )
    assert [t.slug for t in session.scope_teams.all()] == ["payments"]
    # (The migrator puts the newest schema back when the test ends, pass or fail.)


@pytest.mark.django_db(transaction=True)
def test_keying_the_log_rehashes_every_event_and_it_still_verifies(migrator_factory: Any) -> None:
    migrator = migrator_factory()
    old = migrator.apply_initial_migration([("audit", "0003_chain_checks")])
    user = old.apps.get_model("auth", "User").objects.create(username="hr")
    _seed_audit(old.apps, user)
    new = migrator.apply_tested_migration([("audit", "0004_keyed_events_and_truncate_guard")])
    events = new.apps.get_model("audit", "AuditEvent").objects.order_by("seq")
    assert {e.key_id for e in events} == {keys.key_id(settings.AUDIT_KEY)}
    report = verify_chain()
    assert report.ok and report.count == 3, report.message
    # (The migrator puts the newest schema back when the test ends, pass or fail.)
