"""The organisations the served benchmark (bench/served.py) measures, built in a database of
their own. Import after django.setup(); bench/build.py runs a stage in a process whose
environment names that database and its var directory, and writes what the measuring
process needs (personas with their session keys and API tokens, ids, what the database
holds) as JSON.

Stage "1k" starts from an empty database: migrations, the backend ladder (two versions)
through `import_rubric`, the staff (HR, a facilitator, two committee members) through the
people services, then 1,000 people through `import_people`. Stage "10k" imports the file of
10,000 (the first 1,000 unchanged), closes the earlier year's running cycles and builds the
same year for the whole organisation. Each stage's year:

* H1, closed: every review self- and manager-rated with evidence, a calibration session of
  495 reviews run and closed, finalised, two thirds acknowledged, six appeals (three open).
* H2, in manager review, for every team but the last department's: self-reviews submitted
  (one in ten missed), most manager reviews submitted, team DORA metrics, an open board of
  495 reviews with pre-reads and adjustments, promotion cases in every state, a batch and a
  case export queued; the manager persona's reports wait for their ratings.
* H2 late, in self-review, for the last department: the engineer persona's evidence is
  being written.

Services write everything whose shape a page depends on (cycles, boards, adjustments,
appeals, cases, notifications, the audit log); the rows a service would write one review at
a time (evidence, ratings, review states) are written in bulk, with the same shapes.
"""

from __future__ import annotations

import datetime
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
)
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.utils import timezone
from knox.models import AuthToken

from audit.models import AuditEvent
from audit.services import check_whole_chain
from calibration.models import Appeal, CalibrationSession
from calibration.services import (
    adjustment_make,
    appeal_create,
    appeal_resolve,
    preread_add,
    session_close,
    session_create,
    session_open,
)
from core import readcache
from core.actors import system_actor
from core.middleware import IdleTimeoutMiddleware
from notify.models import Notification
from people.models import Engineer, Team
from people.services import person_create, person_set_roles
from promotions.models import ExportJob, PromotionCase
from promotions.selectors import candidate_evidence
from promotions.services import (
    case_decide,
    case_nominate,
    case_submit,
    case_update,
    export_batch_request,
    export_request,
)
from reviews.models import DimensionRating, Evidence, Review, ReviewCycle, ScoreSnapshot
from reviews.services import (
    cycle_advance,
    cycle_create,
    cycle_open,
    cycle_recompute_scores,
    evidence_add,
    recount_evidence,
    review_acknowledge,
    review_finalize,
)
from reviews.team_metrics import team_metrics_import
from rubrics.models import RubricVersion

User = get_user_model()
LADDERS = Path(__file__).resolve().parent.parent / "rubrics" / "ladders"
STAFF = {
    "bench-hr": ("Hana", "Reyes", ["hr"]),
    "bench-facilitator": ("Farid", "Cole", ["facilitator"]),
    "bench-committee-1": ("Clara", "Voss", ["committee"]),
    "bench-committee-2": ("Cyril", "Amato", ["committee"]),
}
TEAMS_PER_DEPARTMENT = 9
REPORTS_PER_TEAM = 10  # besides the team's manager; with the director, 100 per department
BOARD_DEPARTMENTS = 5  # 45 teams of 11 reviews: a board of 495
DIMENSIONS = ["delivery", "technical_quality", "reliability", "collaboration", "mentoring", "scope"]
LEVELS = ["L3", "L3", "L4", "L4", "L5"]
EVIDENCE = [
    ("pull_request", "https://github.com/acme/{team}/pull/{n}", "Idempotent retries for {team}"),
    ("postmortem", "https://wiki.acme.example/postmortems/{team}-{n}", "Postmortem: {team} outage"),
    ("design_doc", "https://docs.acme.example/design/{team}-{n}", "Design doc: {team} data v2"),
    ("mentoring", "https://wiki.acme.example/mentoring/{team}-{n}", "Mentoring plan, {team}"),
]
# What each evidence item supports: the first two together cover every dimension, so any
# manager rating away from the midpoint has evidence behind it.
TAGS = [DIMENSIONS[:3], DIMENSIONS[3:], ["reliability", "technical_quality"], ["mentoring"]]
METRICS_HEADER = (
    "team,deployment_frequency,deployment_frequency_unit,lead_time,lead_time_unit,"
    "change_failure_rate,time_to_restore,time_to_restore_unit\n"
)


@dataclass(frozen=True)
class Stage:
    people: int
    year: int
    first_department: int  # the first department this stage adds

    @property
    def departments(self) -> list[int]:
        return list(range(self.first_department, self.people // 100))


STAGES = {"1k": Stage(1_000, 2026, 0), "10k": Stage(10_000, 2027, 10)}


def email(kind: str, d: int, t: int = 0, i: int = 0) -> str:
    return {
        "director": f"dir{d}@org.bench",
        "manager": f"mgr{d}-{t}@org.bench",
        "engineer": f"eng{d}-{t}-{i}@org.bench",
    }[kind]


def team_name(d: int, t: int) -> str:
    return f"Team {d}-{t}"


def organisation_csv(people: int) -> str:
    """The HR system's file (people/org_import.py's columns): per department a director, and
    nine teams of a manager and ten engineers; each manager reports to the director."""
    rows = ["email,name,employee_id,team,manager_email,level,start_date,active"]
    for d in range(people // 100):
        director = email("director", d)
        rows.append(f"{director},Dora Director{d},D{d:04d},{team_name(d, 0)},,L6,2017-03-01,true")
        for t in range(TEAMS_PER_DEPARTMENT):
            manager = email("manager", d, t)
            rows.append(
                f"{manager},Milo Manager{d}x{t},M{d:04d}{t},{team_name(d, t)},{director},L5,"
                f"2019-0{1 + t % 9}-01,true"
            )
            rows.extend(
                f"{email('engineer', d, t, i)},Eva Engineer{d}x{t}x{i},E{d:04d}{t}{i:02d},"
                f"{team_name(d, t)},{manager},{LEVELS[i % len(LEVELS)]},"
                f"20{20 + i % 6}-{1 + i % 12:02d}-{1 + t:02d},true"
                for i in range(REPORTS_PER_TEAM)
            )
    return "\n".join(rows) + "\n"


def rating(n: int, d: int) -> int:
    """A deterministic spread of ratings around the midpoint."""
    return [3, 3, 4, 3, 2, 3, 4, 5, 3, 3][(n * 7 + d * 3) % 10]


def sign_in(user: Any) -> dict[str, Any]:
    """A session (as signing in leaves it) and an API token, written directly: no password
    is hashed and no sign-in page is involved."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "people.sso.PasswordBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[IdleTimeoutMiddleware.KEY] = time.time()
    session.create()
    _, token = AuthToken.objects.create(user=user)
    return {"user": user.pk, "session": session.session_key, "token": token}


def user(username: str) -> Any:
    return User.objects.get(username=username)


def teams_of(departments: list[int]) -> list[Team]:
    names = [team_name(d, t) for d in departments for t in range(TEAMS_PER_DEPARTMENT)]
    return list(Team.objects.filter(name__in=names).order_by("pk"))


class Builder:
    def __init__(self, stage: Stage) -> None:
        self.stage = stage
        self.started = time.perf_counter()
        departments = stage.departments
        self.board_departments = departments[:BOARD_DEPARTMENTS]
        self.persona_department = departments[BOARD_DEPARTMENTS]
        self.late_department = departments[-1]

    def log(self, message: str) -> None:
        elapsed = time.perf_counter() - self.started
        print(f"  [{elapsed:6.1f} s] {message}", file=sys.stderr, flush=True)

    def build(self) -> dict[str, Any]:
        if self.stage.first_department == 0:
            call_command("migrate", verbosity=0)
            with open(os.devnull, "w") as quiet:
                for version in ("v1", "v2"):
                    path = LADDERS / f"backend-engineering-{version}.yaml"
                    call_command("import_rubric", str(path), "--publish", stdout=quiet)
            self.staff()
            self.log("migrated, ladder published (two versions), staff appointed")
        self.import_people()
        self.hr = user("bench-hr")
        self.facilitator = user("bench-facilitator")
        self.committee = [user("bench-committee-1"), user("bench-committee-2")]
        self.version = RubricVersion.objects.get(
            rubric__slug="backend-engineering", status="published"
        )
        if self.stage.first_department:
            self.close_running_cycles()
        year, late = self.stage.year, self.late_department
        everyone_else = [d for d in range(self.stage.people // 100) if d != late]
        self.past = self.past_cycle(f"{year} H1")
        self.current = self.current_cycle(f"{year} H2", everyone_else)
        self.late = self.late_cycle(f"{year} H2 late")
        # The background checks (celery beat) verify the chain and checkpoint it.
        report = check_whole_chain()
        assert report.ok, report
        self.log(f"audit chain verified ({report.count:,} events)")
        if connection.vendor == "postgresql":
            # What autovacuum does after bulk writes. Without statistics the planner takes
            # tables of tens of thousands of rows for empty ones: the board's evidence tally
            # ran a nested loop over every evidence row of the organisation.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        readcache.bump()  # the bulk writes above changed review data
        return self.facts()

    def staff(self) -> None:
        system = system_actor()
        for username, (first, last, roles) in STAFF.items():
            person = person_create(
                actor=system,
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@org.bench",
            )
            person_set_roles(actor=system, user=person, roles=roles)

    def import_people(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "organisation.csv"
            path.write_text(organisation_csv(self.stage.people))
            with open(os.devnull, "w") as quiet:
                call_command("import_people", str(path), stdout=quiet)
        self.log(f"import_people: {Engineer.objects.count():,} people in the organisation")

    # ---- cycles --------------------------------------------------------------------------------

    def cycle(self, name: str, start: datetime.date, teams: list[Team]) -> ReviewCycle:
        cycle = cycle_create(
            actor=self.hr,
            name=name,
            rubric_version=self.version,
            self_review_ends=start,
            manager_review_ends=start + datetime.timedelta(days=14),
            calibration_ends=start + datetime.timedelta(days=28),
            finalisation_ends=start + datetime.timedelta(days=42),
            teams=teams,
        )
        cycle = cycle_open(actor=self.hr, cycle=cycle)
        self.log(f"{name}: opened with {cycle.reviews.count():,} reviews")
        return cycle

    def advance(self, cycle: ReviewCycle, to: str) -> ReviewCycle:
        while cycle.phase != to:
            cycle = cycle_advance(actor=self.hr, cycle=cycle)
        return cycle

    def self_reviews(self, cycle: ReviewCycle, review_ids: list[int], evidence: int) -> None:
        """Evidence (`evidence` items each, or 2 to 4 when 0) and self ratings on every
        dimension, then submitted: what `evidence_add`, `rating_set_self` and
        `review_submit_self` write."""
        reviews = dict(Review.objects.filter(pk__in=review_ids).values_list("pk", "team__slug"))
        day = cycle.self_review_ends
        items = []
        for n, (rid, team) in enumerate(reviews.items()):
            for k in range(evidence or 2 + n % 3):
                kind, url, title = EVIDENCE[k % len(EVIDENCE)]
                items.append(
                    Evidence(
                        review_id=rid,
                        kind=kind,
                        url=url.format(team=team, n=rid * 10 + k),
                        title=title.format(team=team),
                        occurred_on=day - datetime.timedelta(days=20 + 9 * k),
                        contribution="Designed it, shipped it behind a flag, and ran the review.",
                        dimensions=TAGS[k % len(TAGS)],
                    )
                )
        Evidence.objects.bulk_create(items, batch_size=2000)
        recount_evidence(reviews)
        DimensionRating.objects.bulk_create(
            (
                DimensionRating(
                    review_id=rid,
                    dimension_key=key,
                    self_rating=rating(n + 1, d),
                    self_justification="" if rating(n + 1, d) == 3 else "See the evidence.",
                )
                for n, rid in enumerate(reviews)
                for d, key in enumerate(DIMENSIONS)
            ),
            batch_size=2000,
        )
        Review.objects.filter(pk__in=review_ids).update(
            state=Review.State.SELF_SUBMITTED,
            self_submitted_at=timezone.now(),
            version=F("version") + 1,
        )

    def manager_reviews(self, cycle: ReviewCycle, review_ids: list[int]) -> None:
        """Manager ratings on every dimension (away from the midpoint with a justification and
        evidence tagged to it), overall and growth ratings, submitted: what
        `rating_set_manager`, `rating_set_overall` and `review_submit_manager` write; the
        scores stored through `cycle_recompute_scores`."""
        order = {rid: n for n, rid in enumerate(sorted(review_ids))}
        rows = list(DimensionRating.objects.filter(review_id__in=review_ids))
        for row in rows:
            value = rating(order[row.review_id] * 3, DIMENSIONS.index(row.dimension_key))
            row.manager_rating = value
            row.manager_justification = "" if value == 3 else "Backed by the linked evidence."
        DimensionRating.objects.bulk_update(
            rows, ["manager_rating", "manager_justification"], batch_size=2000
        )
        places: dict[tuple[int, int], list[int]] = {}  # spread over the 9-box
        for rid, n in order.items():
            places.setdefault((2 + n % 3, 1 + n // 3 % 5), []).append(rid)
        for (overall, growth), ids in places.items():
            Review.objects.filter(pk__in=ids).update(
                state=Review.State.MANAGER_SUBMITTED,
                manager_submitted_at=timezone.now(),
                overall_rating=overall,
                growth_rating=growth,
                version=F("version") + 1,
            )
        cycle_recompute_scores(actor=self.hr, cycle=cycle)

    def session(self, cycle: ReviewCycle, name: str, extra: list[Any]) -> CalibrationSession:
        """A board over the board departments' teams, their managers seated and HR observing,
        opened, with pre-reads (one review in twenty) and evidence-backed adjustments (one in
        twenty-five)."""
        teams = teams_of(self.board_departments)
        managers = [
            user(email("manager", d, t))
            for d in self.board_departments
            for t in range(TEAMS_PER_DEPARTMENT)
        ]
        session = session_create(
            actor=self.hr,
            cycle=cycle,
            name=name,
            facilitator=self.facilitator,
            managers=[*managers, *extra],
            observers=[self.hr],
            teams=teams,
            guidance={"2": "0.15", "3": "0.55", "4": "0.25", "5": "0.05"},
        )
        reviews = list(
            Review.objects.filter(cycle=cycle, team__in=teams, state=Review.State.MANAGER_SUBMITTED)
            .select_related("manager", "cycle__rubric_version")
            .order_by("pk")
        )
        seated = {m.pk: m for m in managers}
        for review in [r for r in reviews if r.manager_id in seated][::20]:
            preread_add(
                actor=seated[review.manager_id],
                session=session,
                review=review,
                text="Check the incident follow-ups before moving this one.",
            )
        session = session_open(actor=self.facilitator, session=session)
        for n, review in enumerate(reviews[::25]):
            key = DIMENSIONS[n % len(DIMENSIONS)]
            current = review.ratings.get(dimension_key=key).manager_rating or 3
            evidence = [e.pk for e in review.evidence.active() if key in e.dimensions][:1]
            adjustment_make(
                actor=self.facilitator,
                session=session,
                review=review,
                dimension_key=key,
                rating=current - 1 if current > 1 and (n % 2 or current == 5) else current + 1,
                rationale="The ledger migration landed a quarter early and unblocked two teams.",
                evidence_ids=evidence,
            )
        self.log(f"{name}: {session.board.count()} reviews on the board, with adjustments")
        return session

    def finalise(self, cycle: ReviewCycle, by_service: list[int]) -> None:
        """Every ready review finalised (through `review_finalize` for `by_service`, whose
        engineers acknowledge one in three, in bulk for the rest) and two thirds
        acknowledged."""
        ready = Review.objects.filter(
            cycle=cycle, state__in=[Review.State.MANAGER_SUBMITTED, Review.State.CALIBRATED]
        )
        for review in ready.filter(pk__in=by_service).select_related("engineer__user"):
            review = review_finalize(actor=self.hr, review=review)
            if review.pk % 3:
                review_acknowledge(actor=review.engineer.user, review=review)
        ids = list(ready.values_list("pk", flat=True))
        now = timezone.now()
        Review.objects.filter(pk__in=ids).update(
            state=Review.State.FINALIZED, finalized_at=now, version=F("version") + 1
        )
        Review.objects.filter(pk__in=[rid for rid in ids if rid % 3]).update(
            state=Review.State.ACKNOWLEDGED, acknowledged_at=now, version=F("version") + 1
        )

    def past_cycle(self, name: str) -> ReviewCycle:
        cycle = self.cycle(name, datetime.date(self.stage.year, 6, 5), [])
        ids = list(cycle.reviews.values_list("pk", flat=True))
        self.self_reviews(cycle, ids, evidence=2)
        cycle = self.advance(cycle, ReviewCycle.Phase.MANAGER_REVIEW)
        self.manager_reviews(cycle, ids)
        cycle = self.advance(cycle, ReviewCycle.Phase.CALIBRATION)
        self.past_board = self.session(cycle, f"{name} board", [])
        session_close(actor=self.facilitator, session=self.past_board)
        cycle = self.advance(cycle, ReviewCycle.Phase.FINALISATION)
        # The late department's first team is finalised through the service; the engineer
        # persona (first) and five colleagues appeal, and HR resolves every other appeal.
        persona = user(email("engineer", self.late_department, 0, 0))
        appellants = sorted(
            Review.objects.filter(
                cycle=cycle, team__in=teams_of([self.late_department])[:1]
            ).select_related("engineer__user"),
            key=lambda r: (r.engineer.user_id != persona.pk, r.pk),
        )
        self.finalise(cycle, by_service=[r.pk for r in appellants])
        for n, review in enumerate(appellants[:6]):
            review.refresh_from_db()
            appeal = appeal_create(
                actor=review.engineer.user,
                review=review,
                dimension_key="scope",
                reason="I led the search relevance project end to end; the rating misses it.",
            )
            if n % 2:
                appeal_resolve(
                    actor=self.hr,
                    appeal=appeal,
                    outcome="changed" if n == 1 else "upheld",
                    new_rating=4 if n == 1 else None,
                    resolution="The project's design doc and its reviews support the rating.",
                )
        cycle = self.advance(cycle, ReviewCycle.Phase.CLOSED)
        self.log(f"{name}: closed, finalised, appealed")
        return cycle

    def current_cycle(self, name: str, departments: list[int]) -> ReviewCycle:
        teams = teams_of(departments)
        cycle = self.cycle(name, datetime.date(self.stage.year, 11, 20), teams)
        team_metrics_import(
            actor=self.hr,
            cycle=cycle,
            text=METRICS_HEADER
            + "".join(
                f"{t.name},{3 + n % 11},per_week,{20 + n % 30},hours,{5 + n % 9},{1 + n % 5},"
                "hours\n"
                for n, t in enumerate(teams)
            ),
        )
        # One self-review in ten was not submitted in time, none of them on the board's teams.
        board_teams = {t.pk for t in teams_of(self.board_departments)}
        reviews = list(cycle.reviews.order_by("pk").values_list("pk", "team_id"))
        self.self_reviews(
            cycle,
            [rid for n, (rid, team) in enumerate(reviews) if n % 10 or team in board_teams],
            evidence=0,
        )
        cycle = self.advance(cycle, ReviewCycle.Phase.MANAGER_REVIEW)
        # Managers rated every review on the board's teams and half of the others; the
        # manager persona's department has rated none yet.
        waiting = {t.pk for t in teams_of([self.persona_department])}
        rated = [
            rid
            for n, (rid, team, state) in enumerate(
                cycle.reviews.order_by("pk").values_list("pk", "team_id", "state")
            )
            if state == Review.State.SELF_SUBMITTED
            and team not in waiting
            and (team in board_teams or n % 2)
        ]
        self.manager_reviews(cycle, rated)
        manager = user(email("manager", self.persona_department, 0))
        self.board = self.session(cycle, f"{name} board", [manager])
        # The manager persona's cases: a draft, two submitted to the committee and one
        # decided; a batch export of the cycle's packets and a case's packet, queued.
        engineers = Engineer.objects.filter(manager=manager, level_code__in=["L3", "L4"])
        for n, engineer in enumerate(engineers.order_by("pk")[:4]):
            target = "L4" if engineer.level_code == "L3" else "L5"
            case = case_nominate(
                actor=manager,
                engineer=engineer,
                cycle=cycle,
                target_level=target,
                summary=f"Works at **{target}** on scope and reliability.",
            )
            evidence = list(candidate_evidence(case).values_list("pk", flat=True))
            for axis in ("scope", "complexity", "consistency"):
                case = case_update(
                    actor=manager,
                    case=case,
                    axis=axis,
                    rating=4,
                    narrative="Owned the **payouts platform** across three teams.",
                    evidence_ids=evidence,
                )
            if n:
                case = case_submit(actor=manager, case=case, committee=self.committee)
            if n == 3:
                case_decide(
                    actor=self.committee[0],
                    case=case,
                    outcome="promoted",
                    feedback="The scope is clearly at the next level; congratulations.",
                )
        export_batch_request(actor=self.hr, cycle=cycle)
        export_request(actor=self.committee[0], case=case)
        self.log(f"{name}: in manager review, {len(rated):,} rated, cases, exports")
        return cycle

    def late_cycle(self, name: str) -> ReviewCycle:
        cycle = self.cycle(
            name, datetime.date(self.stage.year, 12, 18), teams_of([self.late_department])
        )
        ids = sorted(cycle.reviews.values_list("pk", flat=True))
        self.self_reviews(cycle, [rid for n, rid in enumerate(ids) if n % 4 in (1, 2)], 2)
        engineer = user(email("engineer", self.late_department, 0, 0))
        review = Review.objects.get(cycle=cycle, engineer__user=engineer)
        for k in range(3):
            _, url, title = EVIDENCE[k]
            evidence_add(
                actor=engineer,
                review=review,
                url=url.format(team=review.team.slug, n=900 + k),
                title=title.format(team=review.team.name),
                dimensions=TAGS[k],
                contribution="Wrote it and ran the review with two teams.",
            )
        self.log(f"{name}: in self-review")
        return cycle

    def close_running_cycles(self) -> None:
        """The earlier year ends: its board closes and its cycles are finalised and closed."""
        for session in CalibrationSession.objects.filter(status=CalibrationSession.Status.OPEN):
            session_close(actor=self.facilitator, session=session)
        for cycle in ReviewCycle.objects.exclude(phase=ReviewCycle.Phase.CLOSED).order_by("pk"):
            cycle = self.advance(cycle, ReviewCycle.Phase.FINALISATION)
            self.finalise(cycle, by_service=[])
            self.advance(cycle, ReviewCycle.Phase.CLOSED)
        self.log("the earlier year's cycles closed")

    # ---- who signs in, and what they read --------------------------------------------------------

    def facts(self) -> dict[str, Any]:
        engineer = user(email("engineer", self.late_department, 0, 0))
        manager = user(email("manager", self.persona_department, 0))
        people = {
            "engineer": engineer,
            "manager": manager,
            "director": user(email("director", self.persona_department)),
            "hr": self.hr,
            "facilitator": self.facilitator,
            "committee": self.committee[0],
        }
        own = Review.objects.filter(engineer__user=engineer)
        past = own.get(cycle=self.past)
        rated = Review.objects.filter(cycle=self.current, manager=manager).order_by("pk")[0]
        cases = PromotionCase.objects.filter(cycle=self.current).order_by("pk")
        ids = {
            "current_cycle": self.current.pk,
            "board": self.board.pk,
            "board_review": self.board.board.order_by("pk")[0].review_id,
            "engineer_review": own.get(cycle=self.late).pk,
            "engineer_past_review": past.pk,
            "engineer_appeal": past.appeals.get().pk,
            "manager_review": rated.pk,
            "team": rated.team_id,
            "draft_case": cases.get(status=PromotionCase.Status.DRAFT).pk,
            "case": cases.filter(status=PromotionCase.Status.SUBMITTED)[0].pk,
            "version": self.version.number,
            "export_job": str(ExportJob.objects.get(cycle=self.current).pk),
            "case_job": str(ExportJob.objects.get(case__cycle=self.current).pk),
        }
        held = {
            "reviews": Review.objects.count(),
            "evidence": Evidence.objects.count(),
            "ratings": DimensionRating.objects.count(),
            "scores": ScoreSnapshot.objects.count(),
            "sessions": CalibrationSession.objects.count(),
            "appeals": Appeal.objects.count(),
            "cases": PromotionCase.objects.count(),
            "notifications": Notification.objects.count(),
            "audit events": AuditEvent.objects.count(),
        }
        facts = {
            "people": self.stage.people,
            "held": held,
            "personas": {name: sign_in(person) for name, person in people.items()},
            "ids": ids,
            "load": self.load_users(),
        }
        self.log("personas signed in")
        return facts

    def load_users(self) -> dict[str, list[dict[str, Any]]]:
        """The load test's people: engineers writing their self-reviews (each with a draft
        review and an evidence item of their own), managers with a report to rate, and HR."""
        engineers = []
        drafts = (
            Review.objects.filter(cycle=self.late, state=Review.State.DRAFT)
            .exclude(engineer__user__username=email("engineer", self.late_department, 0, 0))
            .select_related("engineer__user", "team", "cycle__rubric_version")
            .order_by("pk")
        )
        for review in drafts[:18]:
            _, url, title = EVIDENCE[0]
            item = evidence_add(
                actor=review.engineer.user,
                review=review,
                url=url.format(team=review.team.slug, n=review.pk * 10 + 7),
                title=title.format(team=review.team.name),
                dimensions=TAGS[0],
            )
            engineers.append(
                {**sign_in(review.engineer.user), "review": review.pk, "evidence": item.pk}
            )
        managers = []
        for d in self.stage.departments[BOARD_DEPARTMENTS + 1 :][:3]:
            for t in range(0, TEAMS_PER_DEPARTMENT, 2):
                manager = user(email("manager", d, t))
                waiting = (
                    Review.objects.filter(
                        cycle=self.current, manager=manager, state=Review.State.SELF_SUBMITTED
                    )
                    .order_by("pk")
                    .first()
                )
                if waiting is not None:
                    managers.append({**sign_in(manager), "review": waiting.pk})
        return {"engineer": engineers, "manager": managers, "hr": [sign_in(self.hr)]}
