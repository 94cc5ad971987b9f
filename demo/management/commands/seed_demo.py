"""A deterministic demo organisation: teams, engineers, managers, HR, a facilitator, and a
rubric with two published versions. Safe to run twice."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from audit.services import check_whole_chain
from core.roles import Role
from demo.delivery import seed_delivery_events
from demo.governance import seed_governance
from demo.organisation import seed_review_cycles
from metrics.models import Deployment, GovernedMetric
from people import services as people
from people.models import Engineer, Team
from rubrics import services as rubric_services
from rubrics.document import load_yaml, version_to_document
from rubrics.models import Rubric, RubricVersion
from rubrics.services import rubric_import

LADDERS = Path(__file__).resolve().parents[3] / "rubrics" / "ladders"
DEMO_PASSWORD = "levelset-demo"
TEAMS = ["Payments", "Platform", "Search", "Mobile", "Data", "Identity"]
FIRST = [
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Elif",
    "Femi",
    "Greta",
    "Hiro",
    "Ines",
    "Jon",
    "Kemi",
    "Luca",
    "Maya",
    "Nils",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
]
LAST = [
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Patel",
    "Yilmaz",
    "Adeyemi",
    "Novak",
    "Tanaka",
    "García",
    "Kowalski",
    "Mensah",
    "Rossi",
    "Cohen",
    "Berg",
    "Haddad",
    "Iyer",
    "Walsh",
    "Santos",
    "Kim",
    "Nguyen",
]
LEVELS = ["L3", "L3", "L4", "L4", "L4", "L5", "L3", "L4", "L5", "L6"]
ENGINEERS_PER_TEAM = 10


class Command(BaseCommand):
    help = "Create the demo organisation and rubric (idempotent). Prints the demo logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet", action="store_true")

    @transaction.atomic
    def handle(self, *args: Any, quiet: bool = False, **options: Any) -> None:
        # One hash for every demo account: hashing 70 passwords would take most of a minute.
        self.password_hash = make_password(DEMO_PASSWORD)
        groups = {role: Group.objects.get_or_create(name=role.value)[0] for role in Role}
        hr = self._user("hr", "Harriet", "Reyes", [groups[Role.HR]])
        self.hr = hr
        self._user("hr2", "Hugo", "Brandt", [groups[Role.HR]])
        self._user(
            "facilitator", "Fatima", "Cole", [groups[Role.FACILITATOR], groups[Role.COMMITTEE]]
        )
        director = self._user("director", "Diane", "Marsh", [groups[Role.MANAGER]])
        self._place(director, team=self._team("Platform"), level_code="L6", start=(2018, 3, 1))
        for t, team_name in enumerate(TEAMS):
            team = self._team(team_name)
            manager = self._user(
                f"manager.{team.slug}",
                FIRST[(t * 3) % 20],
                LAST[(t * 7 + 3) % 20],
                [groups[Role.MANAGER]],
            )
            self._place(
                manager, team=team, level_code="L5", manager=director, start=(2019, 1 + t, 1)
            )
            for i in range(ENGINEERS_PER_TEAM):
                n = t * ENGINEERS_PER_TEAM + i
                user = self._user(
                    f"eng{n + 1:02d}",
                    FIRST[n % 20],
                    LAST[(n * 3 + t) % 20],
                    [groups[Role.ENGINEER]],
                )
                self._place(
                    user,
                    team=team,
                    level_code=LEVELS[i],
                    manager=manager,
                    start=(2020 + n % 6, 1 + n % 12, 1 + n % 27),
                    hr_attribute=("Berlin", "Lisbon", "Remote")[n % 3],
                )
        if not Rubric.objects.filter(slug="backend-engineering").exists():
            for name in ("backend-engineering-v1.yaml", "backend-engineering-v2.yaml"):
                document = load_yaml((LADDERS / name).read_text(encoding="utf-8"))
                version = rubric_import(actor=hr, data=document, publish=True)
        version = RubricVersion.objects.get(rubric__slug="backend-engineering", status="published")
        seed_review_cycles(hr=hr, version=version)
        if not Deployment.objects.exists():
            seed_delivery_events(hr=hr, teams=[self._team(name) for name in TEAMS])
        if not GovernedMetric.objects.exists():
            seed_governance(hr=hr)
        self._draft_rubric_version(version)
        # `make run` has no scheduler: verify the chain once, so the audit page has a check to
        # show (HR's "verify the whole chain now" runs another).
        check_whole_chain()
        if not quiet:
            self.stdout.write(
                "Demo data ready. Sign in at http://127.0.0.1:8000/ with password "
                f"{DEMO_PASSWORD!r} as:\n"
                "  hr                HR: cycles, reviews to finalise, the open appeal, the draft\n"
                "                    rubric version 3 to publish, calibration sessions, audit\n"
                "  hr2               HR as second approver; observer in the open session\n"
                "  facilitator       runs the open session '2026 H2 — Payments and Platform';\n"
                "                    sits on the promotion committee (cases to decide)\n"
                "  director          manages the managers: reads every review (skip-level)\n"
                "  manager.payments, manager.platform, manager.search, manager.data\n"
                "                    rate reports in 2026 H2 (manager review), nominate for\n"
                "                    promotion, take part in calibration\n"
                "  manager.mobile, manager.identity\n"
                "                    read or return self-reviews in\n"
                "                    '2026 H2 — Mobile and Identity'\n"
                "  eng31 ... eng40 (Mobile), eng51 ... eng60 (Identity)\n"
                "                    self-review open: add evidence, rate, submit\n"
                "                    (eng32's was returned with a reason)\n"
                "  eng01 ... eng30, eng41 ... eng50\n"
                "                    2026 H2 with their managers; 2026 H1 finalised: acknowledge\n"
                "                    (eng01) or appeal; eng05 has an open appeal"
            )

    def _draft_rubric_version(self, published: RubricVersion) -> None:
        """The next version of the ladder, drafted and not yet published: HR's to finish."""
        rubric = published.rubric
        if rubric.versions.count() > 2:
            return
        draft = rubric_services.version_create_draft(actor=self.hr, rubric=rubric)
        document = version_to_document(draft)
        mentoring = next(d for d in document["dimensions"] if d["key"] == "mentoring")
        mentoring["criteria"]["L4"] = (
            "Mentors one or two engineers through their first on-call rotation and design "
            "reviews; writes down what they learn for the next joiner."
        )
        document["rationale"] = (
            "Mentoring at L4 names on-call and design-review support, which calibration in "
            "2026 H1 found was done but not recognised."
        )
        rubric_services.version_update(actor=self.hr, version=draft, data=document)

    def _team(self, name: str) -> Team:
        team = Team.objects.filter(slug=name.lower()).first()
        return team or people.team_create(actor=self.hr, slug=name.lower(), name=name)

    def _place(
        self,
        user: Any,
        *,
        team: Team,
        level_code: str,
        start: tuple[int, int, int],
        manager: Any = None,
        hr_attribute: str = "",
    ) -> None:
        if not Engineer.objects.filter(user=user).exists():
            people.engineer_create(
                actor=self.hr,
                user=user,
                team=team,
                level_code=level_code,
                manager=manager,
                start_date=datetime.date(*start),
                hr_attribute=hr_attribute,
            )

    def _user(self, username: str, first: str, last: str, groups: list[Group]) -> Any:
        user, created = get_user_model().objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@levelset.example",
            },
        )
        if created:
            user.password = self.password_hash
            user.save(update_fields=["password"])
        user.groups.add(*groups)
        return user
