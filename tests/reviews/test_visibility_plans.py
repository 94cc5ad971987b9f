"""What PostgreSQL does with the visibility rules at ten thousand engineers: an engineer's list
of one review and a manager's list of their reports are read through indexes, never by scanning
every review (or every engineer or user) in the organisation. The plans are those of the
app's connections, whose random_page_cost (1.1, config/settings.py) is the usual one for SSDs.

The organisation is written in bulk (10,000 engineers under 100 managers, one cycle opened
through the services), analysed, and each SELECT that the reviews page and the reviews API run
for the viewer is explained."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core.roles import Role
from people.models import Engineer, Team
from tests.conftest import client_for
from tests.factories import UserFactory, open_cycle

pytestmark = pytest.mark.postgres

User = get_user_model()
MANAGERS = 100
REPORTS = 100
# The tables a viewer's rule reaches through; none may be read whole.
GUARDED = ("reviews_review", "reviews_engineer", "auth_user", "reviews_reviewhandover")


@pytest.fixture
def organisation(hr: Any, published: Any) -> dict[str, Any]:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL=postgres://...)")
    director = UserFactory(username="director", roles=[Role.MANAGER.value])
    team = Team.objects.create(slug="platform", name="Platform")
    Engineer.objects.create(user=director, team=team, level_code="L7", start_date=_START)
    managers = User.objects.bulk_create(
        User(username=f"manager-{m:03d}", last_name=f"M{m:03d}", password="!")
        for m in range(MANAGERS)
    )
    Engineer.objects.bulk_create(
        Engineer(user=u, team=team, level_code="L6", manager=director, start_date=_START)
        for u in managers
    )
    reports = User.objects.bulk_create(
        User(username=f"eng-{n:05d}", last_name=f"E{n:05d}", password="!")
        for n in range(MANAGERS * REPORTS)
    )
    Engineer.objects.bulk_create(
        Engineer(
            user=u, team=team, level_code="L4", manager=managers[n % MANAGERS], start_date=_START
        )
        for n, u in enumerate(reports)
    )
    managers[0].groups.add(_group(Role.MANAGER))
    reports[0].groups.add(_group(Role.ENGINEER))
    cycle = open_cycle(hr, published, name="Big cycle", self_review_ends=_START, teams=[team])
    assert cycle.reviews.count() == MANAGERS * REPORTS + MANAGERS
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"engineer": reports[0], "manager": managers[0], "director": director}


_START = datetime.date(2026, 1, 5)


def _group(role: Role) -> Any:
    from django.contrib.auth.models import Group

    return Group.objects.get_or_create(name=role.value)[0]


def _scans(sql: str) -> str:
    """The plan of `sql` if it reads a guarded table whole, else nothing."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return plan if any(re.search(rf"Seq Scan on {t}\b", plan) for t in GUARDED) else ""


def _whole_table_reads(user: Any, settings: Any) -> dict[str, str]:
    """Each SELECT of the reviews page and API for `user` that reads a guarded table whole."""
    settings.LEVELSET_READ_CACHE = False
    page = Client()
    page.force_login(user)
    found: dict[str, str] = {}
    for get in (lambda: page.get("/reviews/"), lambda: client_for(user).get("/api/reviews/")):
        with CaptureQueriesContext(connection) as queries:
            assert get().status_code == 200
        for query in queries.captured_queries:
            sql = query["sql"]
            if sql.startswith("SELECT") and (plan := _scans(sql)):
                found[sql] = plan
    return found


@pytest.mark.parametrize("who", ["engineer", "manager"])
def test_a_viewers_lists_are_read_through_indexes(
    organisation: dict[str, Any], who: str, settings: Any
) -> None:
    found = _whole_table_reads(organisation[who], settings)
    assert not found, "\n\n".join(f"{sql}\n{plan}" for sql, plan in found.items())


def test_the_rule_is_answered_with_the_right_rows(organisation: dict[str, Any]) -> None:
    """The same plans answer correctly: one review for the engineer; their own and their
    reports' for a manager, and for the director their managers' and every skip-level's."""
    from reviews.selectors import reviews_for_user

    assert reviews_for_user(organisation["engineer"]).count() == 1  # the director has none
    assert reviews_for_user(organisation["manager"]).count() == 1 + REPORTS
    assert reviews_for_user(organisation["director"]).count() == MANAGERS + MANAGERS * REPORTS
