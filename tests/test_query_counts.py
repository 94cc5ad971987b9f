"""Exact SQL query counts of every list and board endpoint, pinned as zulip pins them.

Each endpoint is read in a small world and a big one and must take the same, pinned number
of queries in both: a count that grows with the rows is an N+1.

* small: the manager's two reports (Ada and Ben), one evidence item per review, two cycles
  (H1 finalised and appealed, H2 on an open calibration board), two sessions, two promotion
  cases, one ladder.
* big: eight reports with three evidence items per review, two adjustments and two
  pre-reads per review, one more level and dimension in the ladder (and a draft v2), three
  more rubrics, two more cycles with team metrics, four more sessions (one of them a second
  open board), a review waiting to join the board, two appeals per report, eight cases.

Both worlds are built once per module, in a transaction rolled back at the end; each test
runs in a savepoint inside it. Every measured request runs once unmeasured first, so that
per-process caches (content types, released rubric content) are warm and a count does not
depend on test order; then the read cache (core/readcache.py) is emptied, so an uncached
count is a real render. Each request is made with a freshly fetched user: no role lookup is
cached on it.
"""

from __future__ import annotations

import datetime
import itertools
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.test import Client, override_settings

from audit.services import check_whole_chain, new_events_check
from calibration.models import Adjustment, Appeal, CalibrationSession, PreRead
from calibration.selectors import waiting_reviews
from calibration.services import (
    adjustment_make,
    appeal_create,
    appeal_resolve,
    preread_add,
    session_close,
    session_create,
    session_open,
)
from people.models import Team
from promotions.models import PromotionCase
from promotions.services import case_nominate, case_submit, case_update
from reviews.models import Evidence, Review, ReviewCycle, TeamMetrics
from reviews.services import (
    cycle_add_engineer,
    cycle_advance,
    cycle_create,
    cycle_open,
    evidence_add,
    rating_set_manager,
    rating_set_overall,
    rating_set_self,
    review_finalize,
    review_submit_manager,
    review_submit_self,
)
from reviews.team_metrics import team_metrics_import
from rubrics.models import Dimension, Rubric
from rubrics.services import rubric_import
from tests.conftest import client_for, ladder
from tests.factories import EngineerFactory, UserFactory
from tests.reviews.conftest import Org, build_org

# ---- the worlds ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Size:
    name: str
    reports: int  # the manager's reports, each with a review in both cycles
    evidence: int  # evidence items per review (the second one backs a second adjustment)
    prereads: int  # pre-reads per review on each board
    appeals: int  # appeals per report on H1
    extra_cycles: int  # planned cycles besides H1 and H2, each with team metrics
    extra_sessions: int  # scheduled sessions besides the boards of H1 and H2
    extra_rubrics: int
    big: bool  # a bigger ladder, a second open board and a review waiting to join H2's


SMALL = Size(
    "small",
    reports=2,
    evidence=1,
    prereads=1,
    appeals=1,
    extra_cycles=0,
    extra_sessions=0,
    extra_rubrics=0,
    big=False,
)
BIG = Size(
    "big",
    reports=8,
    evidence=3,
    prereads=2,
    appeals=2,
    extra_cycles=2,
    extra_sessions=3,
    extra_rubrics=3,
    big=True,
)

# What each evidence item of a review is tagged to, in turn.
TAGS = [["delivery", "scope"], ["collaboration"], ["technical_quality", "mentoring"]]
RATIONALE = "Led the ledger rewrite across two teams"


@dataclass
class World:
    size: Size
    org: Org
    facilitator: Any
    payments: Team
    h1: ReviewCycle
    h2: ReviewCycle
    reports: list[Any]
    h1_session: Any = None  # H1's board, closed
    h2_session: Any = None  # H2's board, open
    viewers: dict[str, Any] = field(default_factory=dict)

    @property
    def review(self) -> Review:
        """Ada's review in H2: the one the single-review endpoints read."""
        return Review.objects.get(cycle=self.h2, engineer__user=self.org.engineer)


def bigger_ladder() -> dict[str, Any]:
    """Backend v1 with a fifth level and a seventh dimension: more rubric content to read."""
    data = ladder(1)
    data["levels"].append({"code": "L7", "name": "Principal Engineer"})
    for dimension in data["dimensions"]:
        dimension["criteria"]["L7"] = f"Sets the direction for {dimension['name'].lower()}."
    first = {k: v for k, v in data["dimensions"][0].items() if k != "criteria"}
    data["dimensions"].append(
        {
            **first,
            "key": "operations",
            "name": "Operations",
            "weight": 10,
            "criteria": {
                lv["code"]: f"Runs what they build ({lv['code']})." for lv in data["levels"]
            },
        }
    )
    return data


def midpoint(review: Review) -> dict[str, dict[str, Any]]:
    return {d.key: {"rating": 3} for d in review.cycle.rubric_version.dimensions.all()}


def advance(hr: Any, cycle: ReviewCycle, to: str) -> ReviewCycle:
    cycle = ReviewCycle.objects.get(pk=cycle.pk)
    while cycle.phase != to:
        cycle = cycle_advance(actor=hr, cycle=cycle)
    return cycle


def self_review(user: Any, cycle: ReviewCycle, evidence: int) -> None:
    review = Review.objects.get(cycle=cycle, engineer__user=user)
    for n in range(evidence):
        evidence_add(
            actor=user,
            review=review,
            url=f"https://github.com/acme/pay/pull/{cycle.pk}{user.pk:03}{n}",
            title=f"{cycle.name} PR {n} by {user.username}",
            dimensions=TAGS[n],
        )
    rating_set_self(actor=user, review=review, ratings=midpoint(review))
    review_submit_self(actor=user, review=review)


def manager_review(manager: Any, user: Any, cycle: ReviewCycle, delivery: int = 4) -> None:
    review = Review.objects.get(cycle=cycle, engineer__user=user)
    ratings = midpoint(review)
    if delivery != 3:
        ratings["delivery"] = {"rating": delivery, "justification": "Shipped the ledger"}
    rating_set_manager(actor=manager, review=review, ratings=ratings)
    rating_set_overall(actor=manager, review=review, overall=3, growth=4)
    review_submit_manager(actor=manager, review=review)


def run_cycle(world: World, cycle: ReviewCycle, board: str, late: Any = None) -> Any:
    """Self-reviews with evidence, manager reviews, then a calibration board opened with
    pre-reads and evidence-backed adjustments. A `late` report's manager review is submitted
    after the board opened: it waits to join it."""
    org, size = world.org, world.size
    for user in world.reports:
        self_review(user, cycle, size.evidence)
    cycle = advance(org.hr, cycle, ReviewCycle.Phase.MANAGER_REVIEW)
    on_time = [user for user in world.reports if user is not late]
    for user in on_time:
        manager_review(org.manager, user, cycle)
    session = session_create(
        actor=org.hr,
        cycle=cycle,
        name=board,
        facilitator=world.facilitator,
        managers=[org.manager],
        observers=[org.hr],
        teams=[world.payments],
        guidance={"3": "0.5", "4": "0.3", "5": "0.2"},
    )
    reviews = list(Review.objects.filter(cycle=cycle, engineer__user__in=on_time))
    authors = [org.manager, world.facilitator][: size.prereads]
    for review, author in itertools.product(reviews, authors):
        preread_add(actor=author, session=session, review=review, text="Ledger work was big")
    session = session_open(actor=world.facilitator, session=session)
    raises = [("delivery", 5), ("collaboration", 4)][: min(size.evidence, 2)]
    for review in reviews:
        items = list(review.evidence.order_by("pk"))
        for (key, rating), item in zip(raises, items, strict=False):
            adjustment_make(
                actor=world.facilitator,
                session=session,
                review=review,
                dimension_key=key,
                rating=rating,
                rationale=RATIONALE,
                evidence_ids=[item.pk],
            )
    if late is not None:
        manager_review(org.manager, late, cycle)
    return session


def metrics_csv(team: Team, n: int) -> str:
    return (
        "team,deployment_frequency,deployment_frequency_unit,lead_time,lead_time_unit,"
        "change_failure_rate,time_to_restore,time_to_restore_unit\n"
        f"{team.slug},{n + 1},per_day,4,hours,12.5,30,minutes\n"
    )


def build_world(size: Size) -> World:
    hr = UserFactory(username="hr-harriet", roles=["hr"])
    version = rubric_import(actor=hr, data=bigger_ladder() if size.big else ladder(1), publish=True)
    for n in range(size.extra_rubrics):
        other = {**ladder(1), "rubric": f"ladder-{n}", "name": f"Ladder {n}"}
        rubric_import(actor=hr, data=other, publish=True)
    if size.big:
        rubric_import(actor=hr, data=bigger_ladder())  # v2, a draft only HR reads
    org = build_org(version, hr)  # opens H2 ("2026 H2")
    payments = org.review(org.engineer).team
    reports = [org.engineer, org.peer]
    for n in range(size.reports - 2):
        joiner = EngineerFactory(
            team=payments, manager=org.manager, level_code=["L3", "L4", "L5"][n % 3]
        )
        cycle_add_engineer(actor=hr, cycle=org.cycle, engineer=joiner)
        reports.append(joiner.user)
    # She also sits on promotion committees (appointed by HR).
    facilitator = UserFactory(username="fatima", roles=["facilitator", "committee"])
    h1 = cycle_create(
        actor=hr,
        name="2026 H1",
        rubric_version=version,
        self_review_ends=datetime.date(2026, 5, 1),
        manager_review_ends=datetime.date(2026, 5, 15),
        calibration_ends=datetime.date(2026, 5, 29),
        finalisation_ends=datetime.date(2026, 6, 12),
    )
    h1 = cycle_open(actor=hr, cycle=h1)
    world = World(size, org, facilitator, payments, h1, org.cycle, reports)

    # H1 runs to the end: calibrated, closed, finalised and appealed (Ada's appeals upheld).
    h1_session = run_cycle(world, h1, "Payments H1")
    world.h1_session = session_close(actor=facilitator, session=h1_session)
    world.h1 = advance(hr, h1, ReviewCycle.Phase.FINALISATION)
    for index, user in enumerate(reports):
        review = Review.objects.get(cycle=h1, engineer__user=user)
        review = review_finalize(actor=hr, review=review)
        for key in ("scope", "mentoring")[: size.appeals]:
            appeal = appeal_create(
                actor=user,
                review=review,
                dimension_key=key,
                reason="I owned the payouts roadmap for the whole half",
            )
            if index == 0:
                appeal_resolve(
                    actor=hr,
                    appeal=appeal,
                    outcome="upheld",
                    resolution="The roadmap was shared with two other engineers",
                )

    # H2 is calibrating: its board is open, with pre-reads and adjustments.
    User = get_user_model()
    stranger, search_manager = org.stranger, User.objects.get(username="other-manager")
    if size.big:  # a second open board, on team Search, where the manager reads along
        self_review(stranger, org.cycle, 1)
    world.h2_session = run_cycle(
        world, org.cycle, "Payments H2", late=reports[-1] if size.big else None
    )
    world.h2 = ReviewCycle.objects.get(pk=org.cycle.pk)
    org.cycle = world.h2
    if size.big:
        manager_review(search_manager, stranger, world.h2, delivery=3)
        search = session_create(
            actor=hr,
            cycle=world.h2,
            name="Search H2",
            facilitator=facilitator,
            managers=[search_manager, org.manager],
            teams=[org.review(stranger).team],
        )
        session_open(actor=facilitator, session=search)
    for n in range(size.extra_sessions):
        session_create(
            actor=hr,
            cycle=world.h2,
            name=f"Preview {n}",
            facilitator=facilitator,
            managers=[org.manager, org.director],
            observers=[hr],
            teams=[payments],
            levels=["L5"] if n % 2 else [],
            scope_managers=[org.manager],
        )

    # Planned cycles, and the team's metrics for each cycle.
    cycles = [world.h1, world.h2]
    for n in range(size.extra_cycles):
        start = datetime.date(2027, 5, 1) + datetime.timedelta(days=182 * n)
        cycles.append(
            cycle_create(
                actor=hr,
                name=f"2027 H{n + 1}",
                rubric_version=version,
                self_review_ends=start,
                manager_review_ends=start + datetime.timedelta(days=14),
                calibration_ends=start + datetime.timedelta(days=28),
                finalisation_ends=start + datetime.timedelta(days=42),
            )
        )
    for n, cycle in enumerate(cycles if size.big else [world.h2]):
        team_metrics_import(actor=hr, cycle=cycle, text=metrics_csv(payments, n))

    # A promotion case per report, from both cycles' evidence; Ada's is submitted.
    levels = ["L3", "L4", "L5", "L6"]
    for index, user in enumerate(reports):
        engineer = user.engineer
        case = case_nominate(
            actor=org.manager,
            engineer=engineer,
            cycle=world.h2,
            target_level=levels[levels.index(engineer.level_code) + 1],
            summary="Ready for **more** scope",
        )
        evidence = list(
            Evidence.objects.filter(review__engineer=engineer).values_list("pk", flat=True)
        )
        for axis in ("scope", "complexity", "consistency"):
            case = case_update(
                actor=org.manager,
                case=case,
                axis=axis,
                rating=4,
                narrative="Led the ledger rewrite across two teams.",
                evidence_ids=evidence,
            )
        if index == 0:
            case_submit(actor=org.manager, case=case, committee=[facilitator])

    world.viewers = {
        "hr": hr,
        "director": org.director,
        "manager": org.manager,
        "engineer": org.engineer,
        "facilitator": facilitator,
    }
    # The audit chain as the background checks leave it: a whole check, then one of the
    # newest events (the audit page reads both, verifying nothing). Each world keeps its own
    # checkpoints: the other size's chain is a different one.
    with (
        tempfile.TemporaryDirectory() as checkpoints,
        override_settings(AUDIT_CHECKPOINTS=f"{checkpoints}/audit-checkpoints.jsonl"),
    ):
        assert check_whole_chain().ok
        assert new_events_check() is not None
    return world


@pytest.fixture(scope="module", params=[SMALL, BIG], ids=lambda size: size.name)
def world(
    request: pytest.FixtureRequest, django_db_setup: None, django_db_blocker: Any
) -> Iterator[World]:
    """Built once per size for the module, in a transaction rolled back at the end."""
    atomic = transaction.atomic()
    with django_db_blocker.unblock():
        atomic.__enter__()
        try:
            with override_settings(
                PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
            ):
                built = build_world(request.param)
        except BaseException:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            raise
    yield built
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


# ---- the endpoints and their counts --------------------------------------------------------

URLS: dict[str, Callable[[World], str]] = {
    "reviews": lambda w: "/api/reviews/",
    "review": lambda w: f"/api/reviews/{w.review.pk}/",
    "score": lambda w: f"/api/reviews/{w.review.pk}/score/",
    "cycles": lambda w: "/api/cycles/",
    "evidence": lambda w: f"/api/reviews/{w.review.pk}/evidence/",
    "team metrics": lambda w: f"/api/teams/{w.payments.pk}/metrics/",
    "sessions": lambda w: "/api/calibration/sessions/",
    "session": lambda w: f"/api/calibration/sessions/{w.h2_session.pk}/",
    "board": lambda w: f"/api/calibration/sessions/{w.h2_session.pk}/board/",
    "closed board": lambda w: f"/api/calibration/sessions/{w.h1_session.pk}/board/",
    "analytics": lambda w: f"/api/calibration/sessions/{w.h2_session.pk}/analytics/",
    "adjustments": lambda w: f"/api/calibration/sessions/{w.h2_session.pk}/adjustments/",
    "export": lambda w: f"/api/calibration/sessions/{w.h2_session.pk}/export.csv",
    "appeals": lambda w: "/api/appeals/",
    "promotions": lambda w: "/api/promotions/",
    "audit events": lambda w: "/api/audit/events/",
    "rubrics": lambda w: "/api/rubrics/",
    "rubric version": lambda w: "/api/rubrics/backend-engineering/versions/1/",
    "page reviews": lambda w: "/reviews/",
    "page team": lambda w: "/reviews/team/",
    "page calibration": lambda w: "/calibration/",
    "page board": lambda w: f"/calibration/{w.h2_session.pk}/",
    "page promotions": lambda w: "/promotions/",
    "page audit": lambda w: "/audit/",
}


@dataclass(frozen=True)
class Read:
    endpoint: str  # a key of URLS; "page ..." are HTML pages (session login), the rest API
    viewer: str
    queries: int
    cache: str = ""  # for the read-cached endpoints: "miss", "hit" or "off"
    n_plus_one: str = ""  # what repeats per row, when the count grows with the world

    def __str__(self) -> str:
        return "-".join(p for p in (self.endpoint, self.viewer, self.cache) if p)


READS = [
    # Every read of reviews by someone other than HR first reads the viewer's reach (own
    # profile, reports who manage, handovers: reviews.permissions) in one query, once per
    # visibility filter it applies.
    # /api/reviews/ (read cache) miss: roles, count, page of reviews (evidence count as a
    # subquery), their ratings; hit: roles only (the cache key); off: LEVELSET_READ_CACHE=False
    Read("reviews", "manager", 5, "miss"),
    Read("reviews", "manager", 1, "hit"),
    Read("reviews", "manager", 5, "off"),
    Read("reviews", "hr", 4, "miss"),
    Read("reviews", "hr", 1, "hit"),
    Read("reviews", "engineer", 5, "miss"),
    Read("reviews", "engineer", 1, "hit"),
    Read("reviews", "director", 5, "miss"),  # skip-level reports
    # /api/reviews/{id}/: roles, reach; review (cycle, people, team), its rubric version
    # (rubric, scale: by itself, cheaper to plan), ratings, evidence (levels, dimensions and
    # criteria of a released version: once per process)
    Read("review", "manager", 6),
    Read("review", "engineer", 6),
    # /api/reviews/{id}/score/ (read cache) miss: roles, review (engineer, cycle, version),
    # ratings, evidence (rubric content from the per-process cache); hit: roles only
    Read("score", "engineer", 5, "miss"),
    Read("score", "engineer", 1, "hit"),
    Read("score", "engineer", 5, "off"),
    Read("score", "manager", 5, "miss"),
    Read("score", "manager", 1, "hit"),
    # /api/cycles/: roles, cycles with how many teams each covers (rubric version, rubric; a
    # manager's by visible reviews)
    Read("cycles", "hr", 2),
    Read("cycles", "manager", 3),
    # /api/reviews/{id}/evidence/: roles, reach; review, rubric version, ratings, evidence
    # (the rubric's content as above)
    Read("evidence", "engineer", 6),
    # /api/teams/{id}/metrics/: team, roles, [non-HR: exists a visible review], metrics (cycle)
    Read("team metrics", "hr", 3),
    Read("team metrics", "manager", 5),
    # /api/calibration/sessions/: roles, sessions (cycle, facilitator), participants, their
    # users, scope teams, scope managers
    Read("sessions", "hr", 6),
    Read("sessions", "facilitator", 6),
    Read("sessions", "manager", 6),
    # /api/calibration/sessions/{id}/: roles, session, participants, scope teams, scope
    # managers (what the facilitator may do now needs nothing more)
    Read("session", "facilitator", 5),
    # .../board/ with nothing kept yet (the summary is kept per board state: calibration.
    # selectors.board_summary): roles, session (cycle, version, scale), participants,
    # dimensions; the summary: the whole board's rows, evidence tallies, previous composites,
    # waiting reviews, scope teams, scope managers; the page: its rows, self ratings, evidence
    # tallies, pre-reads, previous composites
    Read("board", "facilitator", 15),
    Read("board", "hr", 15),
    Read("closed board", "facilitator", 14),  # the same less the waiting reviews
    # .../analytics/ with nothing kept yet: roles, session, participants, dimensions, and the
    # summary's six
    Read("analytics", "facilitator", 10),
    Read("analytics", "hr", 10),
    # .../adjustments/: roles, session, participants, adjustments (actor), their evidence
    Read("adjustments", "facilitator", 5),
    # .../export.csv: roles, session, participants, dimensions, the board's rows (only the
    # columns it writes), adjustments (actor), their evidence
    Read("export", "facilitator", 7),
    # /api/appeals/: roles, appeals (resolver)
    Read("appeals", "hr", 2),
    Read("appeals", "engineer", 2),
    # /api/promotions/ (paged): roles, how many cases, their page (engineer, team, cycle,
    # scale, nominator, decider), axes, axis evidence (review, cycle), committees
    Read("promotions", "manager", 6),
    Read("promotions", "hr", 6),
    # /api/audit/events/: roles, page of events (by cursor: nothing is counted)
    Read("audit events", "hr", 2),
    # /api/rubrics/: roles, rubrics annotated with version numbers (draft grants as a subquery)
    Read("rubrics", "hr", 2),
    Read("rubrics", "engineer", 2),
    # /api/rubrics/backend-engineering/versions/1/: roles, version (rubric, scale), levels,
    # dimensions, criteria (level)
    Read("rubric version", "engineer", 5),
    Read("rubric version", "hr", 5),
    # Every page reads its session from the cache (sessions are cached_db), then its user and
    # roles, and counts the unread notifications in its navigation (one query).
    # /reviews/: user, roles, own reviews (with evidence counts), how many others,
    # [when there are others: the page's ids, their rows (with evidence counts); the filters'
    # choices: HR every cycle, team and manager; anyone else the cycles, teams and managers of
    # their reviews in one query]; a manager's reach (whom they may see) read once for the page
    Read("page reviews", "engineer", 6),
    Read("page reviews", "manager", 9),
    Read("page reviews", "hr", 10),
    # /reviews/team/: user, roles, the manager's reach (once, for the cycles and the
    # reviews), cycles, reviews, ratings, team metrics (the dimensions from the per-process
    # rubric cache), unread notifications
    Read("page team", "manager", 8),
    # /calibration/: user, roles, how many sessions, their page with counts, the
    # filter's cycles, [HR: cycles for process health]
    Read("page calibration", "facilitator", 6),
    Read("page calibration", "manager", 7),
    Read("page calibration", "hr", 7),
    # /calibration/{id}/: user, roles, the board's nine less roles, waiting reviews,
    # scope teams, scope managers, adjustments, evidence. A row's adjustment form is fetched
    # when opened, so the facilitator's board costs what HR's read-only one does.
    # With nothing kept yet, the board's summary adds its six (see .../board/ above).
    # The scope teams' delivery over four weeks, with nothing kept yet: deployments, lead times,
    # restore times (metrics.selectors.four_keys), for every team at once.
    # The page's engineers' composites in their last two earlier cycles (one query).
    Read("page board", "facilitator", 22),
    Read("page board", "hr", 22),
    Read("page board", "manager", 24),  # + "may I adjust", asked twice: exists a report of mine
    # /promotions/: user, roles, how many cases, their page (engineer, cycle), the
    # filter's cycles (of the cases seen), the form's reports and cycles; target levels are
    # read when the form is shown
    Read("page promotions", "manager", 9),
    # /audit/: user, roles, the latest check, the newest event's number (events
    # arrived since: a difference, not a count), a whole check under way, the latest whole
    # check (the latest was one of the newest events), the page (by event number: nothing is
    # counted; the pickers read no event). Nothing is verified: the checks run in the
    # background (audit.tasks).
    Read("page audit", "hr", 8),
]


# What each world holds (test_the_big_world_is_bigger): small, big.
HELD_ROWS = {
    "reviews": (8, 20),
    "evidence on Ada's review": (1, 3),
    "evidence": (4, 49),
    "board rows": (2, 7),
    "waiting to join the board": (0, 1),
    "adjustments": (2, 14),
    "pre-reads": (2, 14),
    "sessions": (2, 6),
    "open sessions": (1, 2),
    "appeals": (2, 16),
    "promotion cases": (2, 8),
    "cycles": (2, 4),
    "team metrics": (1, 4),
    "rubrics": (1, 4),
    "dimensions of v1": (6, 7),
}
HELD = {size: {k: v[i] for k, v in HELD_ROWS.items()} for i, size in enumerate(("small", "big"))}


def fresh(user: Any) -> Any:
    """A new instance: no role lookup cached on it."""
    return type(user).objects.get(pk=user.pk)


def getter(endpoint: str, user: Any) -> Callable[[str], Any]:
    if not endpoint.startswith("page "):
        return client_for(fresh(user)).get
    client = Client()
    client.force_login(fresh(user))
    return client.get


def repeated(context: Any) -> list[str]:
    """Queries of the same shape (numbers aside) run more than once: where an N+1 shows."""
    counts = Counter(re.sub(r"\d+", "N", query["sql"]) for query in context.captured_queries)
    return [f"{n}x {sql}" for sql, n in counts.items() if n > 1]


@pytest.mark.parametrize("read", READS, ids=str)
def test_query_count_is_pinned_and_does_not_grow(
    world: World,
    read: Read,
    db: None,
    settings: Any,
    request: pytest.FixtureRequest,
    django_assert_num_queries: Any,
) -> None:
    if read.n_plus_one and world.size.big:
        request.applymarker(pytest.mark.xfail(strict=True, reason=f"N+1: {read.n_plus_one}"))
    user, url = world.viewers[read.viewer], URLS[read.endpoint](world)
    settings.LEVELSET_READ_CACHE = read.cache != "off"
    assert getter(read.endpoint, user)(url).status_code == 200  # warm per-process caches
    cache.clear()
    if read.cache == "hit":
        assert getter(read.endpoint, user)(url).status_code == 200
    get = getter(read.endpoint, user)
    with django_assert_num_queries(read.queries) as context:
        response = get(url)
        print("\n".join(repeated(context)))
    assert response.status_code == 200


def test_the_big_world_is_bigger(world: World, db: None) -> None:
    """What each world holds: the rows the endpoints above read."""
    session = world.h2_session
    held = {
        "reviews": Review.objects.count(),
        "evidence on Ada's review": world.review.evidence.count(),
        "evidence": Evidence.objects.count(),
        "board rows": session.board.count(),
        "waiting to join the board": waiting_reviews(session).count(),
        "adjustments": Adjustment.objects.filter(session=session).count(),
        "pre-reads": PreRead.objects.filter(session=session).count(),
        "sessions": CalibrationSession.objects.count(),
        "open sessions": CalibrationSession.objects.filter(status="open").count(),
        "appeals": Appeal.objects.count(),
        "promotion cases": PromotionCase.objects.count(),
        "cycles": ReviewCycle.objects.count(),
        "team metrics": TeamMetrics.objects.count(),
        "rubrics": Rubric.objects.count(),
        "dimensions of v1": Dimension.objects.filter(
            version__number=1, version__rubric__slug="backend-engineering"
        ).count(),
    }
    assert held == HELD[world.size.name]
