"""Organisation import benchmarks. Import after django.setup(), against the seeded demo database.

1. `import_people` of a 10,000-person file (managers, teams, levels of the rubric in use) into
   the demo organisation: seconds and queries. Target: ≤ 30 s. Queries do not grow per
   person: besides the batched INSERT and UPDATE statements (1,000 rows each, fewer on SQLite
   with its parameter limit), an import of 1,000 people runs as many queries as one of 10,000.
2. The same file again: nothing changes, so nothing is written (no INSERT, UPDATE or DELETE).
   Target: at most a third of the import's target (10 s).
3. Phase reminders for a cycle of those 10,000 people (`cycle_send_reminders`, what celery
   beat runs daily), the day before the self-review phase ends: seconds, queries and
   notifications queued. Target: ≤ 10 s. Opening the cycle, which tells all 10,000 that their
   self-review is open, is timed beside it.
Each time is also printed as a ratio to the trivial `GET /api/me/` measured in the same run.
"""

from __future__ import annotations

import time
from typing import Any

from bench.measure import against_trivial, count_queries, multiple, trivial_ms, verdict
from config.celery import app as celery_app
from core.roles import is_hr
from people.services import org_import
from rubrics.selectors import level_codes_in_use

IMPORT_TARGET_S = 30.0
REMINDERS_TARGET_S = 10.0
REIMPORT_TARGET_S = IMPORT_TARGET_S / 3
HEADER = "email,name,employee_id,team,manager_email,level,start_date,active\n"
WRITES = ("INSERT", "UPDATE", "DELETE")


def organisation_csv(prefix: str, people: int, team_size: int = 50) -> str:
    """`people` rows: per team one manager (listed after their reports) and their reports."""
    levels = sorted(level_codes_in_use() or {"L3", "L4", "L5"})
    rows = []
    for team in range(people // team_size):
        manager = f"{prefix}-m{team}@bench.test"
        for n in range(team_size - 1):
            rows.append(
                f"{prefix}-e{team}-{n}@bench.test,Engineer {team}-{n},{prefix.upper()}-{team}-{n},"
                f"{prefix} team {team},{manager},{levels[n % len(levels)]},2022-01-03,true\n"
            )
        rows.append(
            f"{manager},Manager {team},{prefix.upper()}-M{team},{prefix} team {team},,"
            f"{levels[-1]},2019-05-06,true\n"
        )
    return HEADER + "".join(rows)


def _import(hr: Any, data: str) -> tuple[float, list[str]]:
    with count_queries() as queries:
        start = time.perf_counter()
        plan = org_import(actor=hr, data=data, fmt="csv")
        elapsed = time.perf_counter() - start
    assert plan.ok, plan.problems[:5]
    return elapsed, queries


def _batched(queries: list[str]) -> int:
    return sum(1 for sql in queries if sql.lstrip().upper().startswith(("INSERT", "UPDATE")))


def main() -> None:
    from django.contrib.auth import get_user_model

    hr = get_user_model().objects.get(username="hr")
    is_hr(hr)  # the roles are read once per user object: not part of either import
    _, small = _import(hr, organisation_csv("k1", 1_000))
    data = organisation_csv("k10", 10_000)
    (elapsed, large), _, trivial = against_trivial(hr, lambda: _import(hr, data))
    print(
        f"{'import_people, 10,000 people':<48} {elapsed:8.3f} s   {len(large)} queries"
        f"   {multiple(elapsed, trivial, IMPORT_TARGET_S)}"
    )
    rest = {1_000: len(small) - _batched(small), 10_000: len(large) - _batched(large)}
    print(
        f"{'  queries besides the write batches':<48} {rest[1_000]} at 1,000, {rest[10_000]} at "
        f"10,000   {verdict(rest[1_000] == rest[10_000])} (no growth per person)"
    )
    (again, queries), _, trivial = against_trivial(hr, lambda: _import(hr, data))
    writes = [sql for sql in queries if sql.lstrip().upper().startswith(WRITES)]
    print(
        f"{'  the same file again (no change)':<48} {again:8.3f} s   {len(queries)} queries, "
        f"{len(writes)} writes   {verdict(not writes)} (nothing written)   {again / elapsed:.2f}×"
        f" the import, {multiple(again, trivial, REIMPORT_TARGET_S)}"
    )
    bench_reminders(hr, "k10")


def bench_reminders(hr: Any, prefix: str) -> None:
    import datetime

    from django.db import transaction

    from people.models import Team
    from reviews.services import cycle_create, cycle_open, cycle_send_reminders
    from rubrics.models import RubricVersion

    version = RubricVersion.objects.published().order_by("-number").first()
    assert version is not None
    ends = datetime.date(2027, 3, 1)
    teams = list(Team.objects.filter(name__startswith=f"{prefix} team "))
    # Queued, as in production, where workers send the e-mail: not sent in-process.
    celery_app.conf.task_always_eager = False
    with transaction.atomic():
        cycle = cycle_create(
            actor=hr,
            name=f"Bench reminders {prefix}",
            rubric_version=version,
            self_review_ends=ends,
            manager_review_ends=ends + datetime.timedelta(days=14),
            calibration_ends=ends + datetime.timedelta(days=21),
            finalisation_ends=ends + datetime.timedelta(days=28),
            teams=teams,
        )
    with count_queries() as queries:
        start = time.perf_counter()
        cycle_open(actor=hr, cycle=cycle)
        opened = time.perf_counter() - start
    print(
        f"{f'cycle_open, {cycle.reviews.count():,} reviews (tells each one)':<48} "
        f"{opened:8.3f} s   {len(queries)} queries"
    )
    before = trivial_ms(hr)
    with count_queries() as queries:
        start = time.perf_counter()
        sent = cycle_send_reminders(actor=hr, today=ends - datetime.timedelta(days=1))
        elapsed = time.perf_counter() - start
    trivial = (before + trivial_ms(hr)) / 2
    print(
        f"{'phase reminders, 10,000-person cycle':<48} {elapsed:8.3f} s   {len(queries)} queries, "
        f"{sent:,} reminders   {multiple(elapsed, trivial, REMINDERS_TARGET_S)}"
    )
    celery_app.conf.task_always_eager = True
