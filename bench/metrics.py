"""Team scorecard benchmarks. Import after django.setup(), against the seeded demo database.

1. Delivery events for 100 teams, 10,000 each (6,000 changes, 3,000 deployments shipping two
   changes each, 1,000 incidents, half of them caused by a deployment) over a year: 1,000,000
   events on PostgreSQL (100,000 for 10 teams on SQLite), written in bulk.
2. The four keys of every team for a quarter and for six periods of four weeks: seconds, as a
   multiple of the trivial request timed around them. Target: 10 s at 1,000,000 events; the
   queries are the same for 10 teams as for 100.
3. A team's scorecard (`GET /api/teams/{id}/scorecard/`, HR): its first read, which computes
   six periods (for information), then, interleaved with the trivial `GET /api/me/`, as it is
   read until the team's events change (the read cache): the ratio of medians. Target: ≤ 5×.
"""

from __future__ import annotations

import datetime
import statistics
import time

from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework.test import APIClient

from bench.measure import against_trivial, count_queries, interleaved, multiple, verdict
from core.actors import system_actor
from metrics.models import Change, Deployment, DeploymentChange, Incident
from metrics.selectors import four_keys, periods_ending
from people.services import team_create

PER_TEAM = (6_000, 3_000, 1_000)  # changes, deployments, incidents
KEYS_TARGET_S = 10.0
SCORECARD_TARGET = 5.0
START = datetime.datetime(2025, 12, 1, tzinfo=datetime.UTC)
YEAR = 365 * 86_400


def build(teams: int) -> list[int]:
    actor = system_actor()
    made = [
        team_create(actor=actor, slug=f"bench-{n}", name=f"Bench team {n}").pk for n in range(teams)
    ]
    changes, deployments, incidents = PER_TEAM
    for team_id in made:
        service = f"svc-{team_id}"
        step = YEAR / changes
        committed = [START + datetime.timedelta(seconds=n * step) for n in range(changes)]
        Change.objects.bulk_create(
            [
                Change(
                    team_id=team_id, service=service, external_id=f"c{n}", committed_at=committed[n]
                )
                for n in range(changes)
            ],
            batch_size=5_000,
        )
        shipped = {
            f"d{k}": committed[2 * k + 1] + datetime.timedelta(hours=2 + k % 48)
            for k in range(deployments)
        }
        rows = Deployment.objects.bulk_create(
            [
                Deployment(team_id=team_id, service=service, external_id=ident, deployed_at=when)
                for ident, when in shipped.items()
            ],
            batch_size=5_000,
        )
        change_ids = dict(Change.objects.filter(service=service).values_list("external_id", "pk"))
        DeploymentChange.objects.bulk_create(
            [
                DeploymentChange(deployment_id=row.pk, change_ref=ref, change_id=change_ids[ref])
                for k, row in enumerate(rows)
                for ref in (f"c{2 * k}", f"c{2 * k + 1}")
            ],
            batch_size=5_000,
        )
        Incident.objects.bulk_create(
            [
                Incident(
                    team_id=team_id,
                    service=service,
                    external_id=f"i{m}",
                    opened_at=shipped[f"d{3 * m}"] + datetime.timedelta(minutes=30),
                    restored_at=shipped[f"d{3 * m}"]
                    + datetime.timedelta(minutes=30 + 20 * (1 + m % 10)),
                    deployment_ref=f"d{3 * m}" if m % 2 == 0 else "",
                )
                for m in range(incidents)
            ],
            batch_size=5_000,
        )
    return made


def main() -> None:
    postgres = connection.vendor == "postgresql"
    teams = 100 if postgres else 10
    events = teams * sum(PER_TEAM)
    print(f"\nTeam scorecards ({connection.vendor}): {teams} teams, {events:,} delivery events")
    start = time.perf_counter()
    team_ids = build(teams)
    if postgres:
        with connection.cursor() as cursor:
            tables = (
                "metrics_change, metrics_deployment, metrics_deploymentchange, metrics_incident"
            )
            cursor.execute(f"ANALYZE {tables}")
    print(f"  built in {time.perf_counter() - start:.0f} s")
    hr = get_user_model().objects.get(username="hr")
    quarter = [(datetime.date(2026, 6, 1), datetime.date(2026, 8, 31))]
    trend = periods_ending(datetime.date(2026, 11, 29), 28, 6)
    for label, periods in (("a quarter", quarter), ("six 4-week periods", trend)):
        keys, seconds, trivial = against_trivial(
            hr, lambda p=periods: four_keys(teams=team_ids, periods=p)
        )
        assert sum(k.deployments for k in keys.values()) > 0
        print(
            f"  four keys, {teams} teams, {label:<20} {seconds:6.2f} s   "
            + multiple(seconds, trivial, KEYS_TARGET_S)
        )
    with count_queries() as few:
        four_keys(teams=team_ids[:10], periods=trend)
    with count_queries() as many:
        four_keys(teams=team_ids, periods=trend)
    print(
        f"  queries for 10 teams / {teams} teams                 {len(few)} / {len(many)}   "
        f"{verdict(len(few) == len(many))} (the same)"
    )
    client = APIClient()
    client.force_authenticate(hr)
    url = f"/api/teams/{team_ids[0]}/scorecard/?start=2026-11-02&end=2026-11-29"
    _, first, trivial = against_trivial(hr, lambda: client.get(url))
    print(
        f"  the scorecard's first read (its six periods computed) {first * 1000:6.1f} ms   "
        f"{first * 1000 / trivial:5.1f}× GET /api/me/ (then kept until the team's events change)"
    )
    samples = interleaved(
        {"card": lambda: client.get(url), "me": lambda: client.get("/api/me/")}, 60
    )
    ratio = statistics.median(samples["card"]) / statistics.median(samples["me"])
    print(
        f"  GET /api/teams/{{id}}/scorecard/ (HR)                {ratio:5.1f}× GET /api/me/   "
        f"{verdict(ratio <= SCORECARD_TARGET)} (≤ {SCORECARD_TARGET:g}×)"
    )
