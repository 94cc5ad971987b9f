"""The four keys from events, per team and period, in one grouped query each: worked by hand,
and against a plain-Python reading of DORA's definitions for any events."""

from __future__ import annotations

import datetime
import statistics
from decimal import Decimal
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.actors import system_actor
from metrics.models import Change, Deployment, DeploymentChange, Incident
from metrics.selectors import FourKeys, four_keys, periods_ending
from people.models import Team
from tests.factories import TeamFactory
from tests.metrics.conftest import at, change, deployment, incident, send

MARCH = [
    (datetime.date(2026, 3, 1), datetime.date(2026, 3, 14)),
    (datetime.date(2026, 3, 15), datetime.date(2026, 3, 28)),
]


def test_the_four_keys_worked_by_hand(hr: Any, payments: Team, search: Team) -> None:
    send(
        hr,
        change("c1", 2, 0),
        change("c2", 2, 6),
        change("c3", 3, 0),
        change("c4", 16, 0),
        deployment("d1", 2, 12, ["c1", "c2"]),  # lead times 12 h and 6 h
        deployment("d2", 4, 0, ["c3", "unknown"]),  # 24 h; the unknown change is not measured
        deployment("d3", 17, 0, ["c4"]),  # second period: 24 h
        incident("i1", at(4, 1), at(4, 3), "d2"),  # caused by d2, restored in 2 h
        incident("i2", at(5, 0), at(5, 0, 30)),  # no known cause, 30 min
        incident("i3", at(6, 0), None, "d1"),  # still open: d1 failed, no restore time yet
        deployment("s1", 2, 0, [], team="search"),
    )
    with CaptureQueriesContext(connection) as queries:
        keys = four_keys(teams=[payments.pk, search.pk], periods=MARCH)
    assert len(queries) == 3  # deployments, lead times, restores: however many teams and periods
    first = keys[(payments.pk, 0)]
    assert (first.deployments, first.failed_deployments) == (2, 2)
    assert first.deployments_per_week == Decimal("1.00")  # 2 in 14 days
    assert first.change_failure_rate == Decimal("100.00")
    assert (first.changes_measured, first.lead_time_hours) == (3, Decimal("12.00"))  # 6, 12, 24
    assert (first.incidents_restored, first.time_to_restore_hours) == (2, Decimal("1.25"))  # 0.5, 2
    second = keys[(payments.pk, 1)]
    assert (second.deployments, second.change_failure_rate, second.lead_time_hours) == (
        1,
        Decimal("0.00"),
        Decimal("24.00"),
    )
    assert second.time_to_restore_hours is None and second.incidents_restored == 0
    assert keys[(search.pk, 0)].deployments == 1 and keys[
        (search.pk, 0)
    ].change_failure_rate == Decimal("0.00")
    assert keys[(search.pk, 1)] == FourKeys(start=MARCH[1][0], end=MARCH[1][1])  # nothing: zeros
    assert keys[(search.pk, 1)].change_failure_rate is None


def test_periods_end_on_the_day_asked_for() -> None:
    assert periods_ending(datetime.date(2026, 3, 28), 14, 2) == MARCH


durations = st.lists(st.integers(min_value=0, max_value=60 * 24 * 30), min_size=1, max_size=12)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lead_minutes=durations, restore_minutes=durations, failing=st.sets(st.integers(0, 11)))
def test_the_keys_are_doras_definitions(
    db: None, lead_minutes: list[int], restore_minutes: list[int], failing: set[int]
) -> None:
    for model in (Incident, DeploymentChange, Deployment, Change):  # each example from nothing
        model.objects.all().delete()
    team = TeamFactory(slug="hypo", name="Hypo")
    start = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)
    events: list[dict[str, Any]] = []
    for n, minutes in enumerate(lead_minutes):
        deployed = start + datetime.timedelta(days=40, minutes=n)
        committed = deployed - datetime.timedelta(minutes=minutes)
        events += [
            {
                "kind": "change",
                "team": "hypo",
                "service": "s",
                "id": f"c{n}",
                "at": committed.isoformat(),
            },
            {
                "kind": "deployment",
                "team": "hypo",
                "service": "s",
                "id": f"d{n}",
                "at": deployed.isoformat(),
                "changes": [f"c{n}"],
            },
        ]
    for n, minutes in enumerate(restore_minutes):
        opened = start + datetime.timedelta(days=41, hours=n)
        restored = opened + datetime.timedelta(minutes=minutes)
        cause = f"d{n}" if n in failing and n < len(lead_minutes) else ""
        events.append(
            {
                "kind": "incident",
                "team": "hypo",
                "service": "s",
                "id": f"i{n}",
                "opened_at": opened.isoformat(),
                "restored_at": restored.isoformat(),
                **({"deployment": cause} if cause else {}),
            }
        )
    send(system_actor(), *events)
    period = (datetime.date(2026, 4, 1), datetime.date(2026, 4, 30))
    keys = four_keys(teams=[team.pk], periods=[period])[(team.pk, 0)]
    hours = lambda values: Decimal(str(statistics.median(values) / 60)).quantize(Decimal("0.01"))  # noqa: E731
    assert keys.deployments == len(lead_minutes)
    assert keys.lead_time_hours == hours(lead_minutes)
    assert keys.time_to_restore_hours == hours(restore_minutes)
    caused = {n for n in failing if n < len(lead_minutes) and n < len(restore_minutes)}
    assert keys.failed_deployments == len(caused)
    assert keys.change_failure_rate == (Decimal(100 * len(caused)) / len(lead_minutes)).quantize(
        Decimal("0.01")
    )
    assert keys.deployments_per_week == (Decimal(len(lead_minutes)) * 7 / 30).quantize(
        Decimal("0.01")
    )
