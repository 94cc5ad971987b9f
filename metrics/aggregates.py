"""Two SQL pieces the four keys need and Django lacks: the median of a group
(PostgreSQL's percentile_cont; on SQLite an aggregate of the same name registered on each
connection) and the seconds between two timestamps."""

from __future__ import annotations

import statistics
from typing import Any

from django.db.models import Aggregate, FloatField, Func


class Median(Aggregate):
    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            function="LEVELSET_MEDIAN",
            template="%(function)s(%(expressions)s)",
        )


class SecondsBetween(Func):
    """`later - earlier` in seconds, as a float."""

    arity = 2
    output_field = FloatField()
    template = "EXTRACT(EPOCH FROM (%(expressions)s))"
    arg_joiner = " - "

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
        )


class _SQLiteMedian:
    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: float | None) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        return statistics.median(self.values) if self.values else None


def add_median_to_sqlite(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("LEVELSET_MEDIAN", 1, _SQLiteMedian)
