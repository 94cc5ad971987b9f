"""The four keys of delivery, per team and period, from the events (DORA's definitions):

- deployment frequency: deployments in the period, per week;
- lead time for changes: the median, over the changes the period's deployments shipped, of
  deployment time minus commit time;
- change failure rate: the period's deployments that caused an incident ÷ its deployments;
- time to restore: the median, over the incidents opened in the period and restored, of
  restored minus opened.

Each figure is one grouped query, whatever the number of teams or periods asked for."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, Value, When
from django.utils import timezone

from core import readcache
from metrics.aggregates import Median, SecondsBetween
from metrics.models import Deployment, DeploymentChange, Incident, Indicator

Period = tuple[datetime.date, datetime.date]  # first and last day, both included
TREND_PERIODS = 6  # a scorecard's period and the five of the same length before it


@dataclass(frozen=True)
class FourKeys:
    start: datetime.date
    end: datetime.date
    deployments: int = 0
    failed_deployments: int = 0
    changes_measured: int = 0
    lead_time_hours: Decimal | None = None
    incidents_restored: int = 0
    time_to_restore_hours: Decimal | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def deployments_per_week(self) -> Decimal:
        return _two(Decimal(self.deployments) * 7 / self.days)

    @property
    def change_failure_rate(self) -> Decimal | None:
        """Percent; None without a deployment."""
        if not self.deployments:
            return None
        return _two(Decimal(100 * self.failed_deployments) / self.deployments)


def _two(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def _hours(seconds: float | None) -> Decimal | None:
    """Hours to two places, from seconds as the database computed them (to the millisecond:
    SQLite's day fractions carry float noise below that)."""
    return None if seconds is None else _two(Decimal(str(round(seconds, 3))) / 3600)


def _bounds(period: Period) -> tuple[datetime.datetime, datetime.datetime]:
    """The period as instants: from its first day's midnight to the midnight after its last
    (in the server's time zone)."""
    zone = timezone.get_current_timezone()
    start = datetime.datetime.combine(period[0], datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(
        period[1] + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
    )
    return start, end


def _bucket(field: str, periods: list[Period]) -> Case:
    """Which of `periods` the row's `field` falls in (its index), or null."""
    whens = []
    for index, period in enumerate(periods):
        start, end = _bounds(period)
        whens.append(When(**{f"{field}__gte": start, f"{field}__lt": end}, then=Value(index)))
    return Case(*whens, default=None, output_field=IntegerField())


def _within(field: str, periods: list[Period]) -> Q:
    start = min(_bounds(p)[0] for p in periods)
    end = max(_bounds(p)[1] for p in periods)
    return Q(**{f"{field}__gte": start, f"{field}__lt": end})


def four_keys(*, teams: list[int], periods: list[Period]) -> dict[tuple[int, int], FourKeys]:
    """The four keys of each team in each period: {(team id, period index): FourKeys}, every
    pair present (a period without events has zeros and no medians)."""
    if not teams or not periods:
        return {}
    figures: dict[tuple[int, int], dict[str, Any]] = {
        (team, index): {} for team in teams for index in range(len(periods))
    }
    caused = Incident.objects.filter(
        service=OuterRef("service"), deployment_ref=OuterRef("external_id")
    )
    deployments = (
        Deployment.objects.filter(_within("deployed_at", periods), team_id__in=teams)
        .annotate(period=_bucket("deployed_at", periods))
        .exclude(period=None)
        .values("team_id", "period")
        .annotate(
            deployments=Count("pk"),
            failed_deployments=Count("pk", filter=Q(Exists(caused))),
        )
        .order_by()
    )
    for row in deployments:
        figures[(row["team_id"], row["period"])].update(
            deployments=row["deployments"], failed_deployments=row["failed_deployments"]
        )
    shipped = (
        DeploymentChange.objects.filter(
            _within("deployment__deployed_at", periods),
            deployment__team_id__in=teams,
            change__isnull=False,
        )
        .annotate(
            team_id=F("deployment__team_id"),
            period=_bucket("deployment__deployed_at", periods),
        )
        .exclude(period=None)
        .values("team_id", "period")
        .annotate(
            changes_measured=Count("pk"),
            lead=Median(SecondsBetween(F("deployment__deployed_at"), F("change__committed_at"))),
        )
        .order_by()
    )
    for row in shipped:
        figures[(row["team_id"], row["period"])].update(
            changes_measured=row["changes_measured"], lead_time_hours=_hours(row["lead"])
        )
    restored = (
        Incident.objects.filter(
            _within("opened_at", periods), team_id__in=teams, restored_at__isnull=False
        )
        .annotate(period=_bucket("opened_at", periods))
        .exclude(period=None)
        .values("team_id", "period")
        .annotate(
            incidents_restored=Count("pk"),
            restore=Median(SecondsBetween(F("restored_at"), F("opened_at"))),
        )
        .order_by()
    )
    for row in restored:
        figures[(row["team_id"], row["period"])].update(
            incidents_restored=row["incidents_restored"],
            time_to_restore_hours=_hours(row["restore"]),
        )
    return {
        (team, index): FourKeys(start=periods[index][0], end=periods[index][1], **values)
        for (team, index), values in figures.items()
    }


def periods_ending(end: datetime.date, days: int, count: int) -> list[Period]:
    """`count` periods of `days` days, the last ending on `end`, oldest first."""
    periods = []
    for back in range(count - 1, -1, -1):
        last = end - datetime.timedelta(days=days * back)
        periods.append((last - datetime.timedelta(days=days - 1), last))
    return periods


def delivery_scope(team_id: int) -> str:
    """The read cache's scope of one team's delivery events: new events for the team move it."""
    return f"delivery:{team_id}"


def team_trend(team_id: int, periods: list[Period]) -> list[FourKeys]:
    """One team's four keys in each period, oldest first, computed once until the team's
    events change (core.readcache)."""
    name = f"four-keys:{team_id}:" + ",".join(f"{a}/{b}" for a, b in periods)
    keys = readcache.cached(
        name,
        lambda: four_keys(teams=[team_id], periods=periods),
        shows=[delivery_scope(team_id)],
    )
    return [keys[(team_id, index)] for index in range(len(periods))]


RECENT_DAYS = 28


def recent_keys(team_ids: list[int]) -> dict[int, FourKeys]:
    """The four keys of each team over the last four weeks, as context beside reviews and on
    calibration boards; computed once until one of the teams' events change."""
    if not team_ids:
        return {}
    end = timezone.localdate()
    period = (end - datetime.timedelta(days=RECENT_DAYS - 1), end)
    ids = sorted(set(team_ids))
    keys = readcache.cached(
        f"recent-keys:{end}:{','.join(map(str, ids))}",
        lambda: four_keys(teams=ids, periods=[period]),
        shows=[delivery_scope(team_id) for team_id in ids],
    )
    return {team_id: keys[(team_id, 0)] for team_id in ids}


def team_indicators(team_id: int, periods: list[Period]) -> list[dict[str, Decimal | None]]:
    """One team's leading indicators in each period (the median of each one's measurements;
    None without any), oldest first: one grouped query, kept like the four keys until the
    team's events change."""

    def build() -> list[dict[str, Decimal | None]]:
        medians: list[dict[str, Decimal | None]] = [{} for _ in periods]
        for row in (
            Indicator.objects.filter(_within("at", periods), team_id=team_id)
            .annotate(period=_bucket("at", periods))
            .exclude(period=None)
            .values("period", "name")
            .annotate(median=Median("value"))
            .order_by()
        ):
            medians[row["period"]][row["name"]] = _two(Decimal(str(row["median"])))
        return medians

    name = f"indicators:{team_id}:" + ",".join(f"{a}/{b}" for a, b in periods)
    kept: list[dict[str, Decimal | None]] = readcache.cached(
        name, build, shows=[delivery_scope(team_id)]
    )
    return kept
