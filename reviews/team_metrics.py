"""DORA team metrics imported from CSV: context shown beside reviews, never a score input.

`parse_team_metrics_csv` is pure (no ORM); `team_metrics_import` is the service that writes.
A file is all or nothing: one bad row and nothing is imported, so a cycle never shows a mix of
this quarter's and last quarter's numbers.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from audit import services as audit
from core import limits
from core.actors import User
from core.errors import Forbidden, ValidationFailed
from core.roles import is_hr_or_system
from people.models import Team
from reviews import events
from reviews.models import ReviewCycle, TeamMetrics

COLUMNS = (
    "team",
    "deployment_frequency",
    "deployment_frequency_unit",
    "lead_time",
    "lead_time_unit",
    "change_failure_rate",
    "time_to_restore",
    "time_to_restore_unit",
)

UNITS: dict[str, tuple[str, ...]] = {
    "deployment_frequency_unit": ("per_day", "per_week", "per_month"),
    "lead_time_unit": ("minutes", "hours", "days"),
    "time_to_restore_unit": ("minutes", "hours", "days"),
}

# TeamMetrics stores DecimalField(max_digits=10, decimal_places=2): check the bounds here so a
# too-large number is a line-numbered error, not a database error after half the rows.
_CENT = Decimal("0.01")
_MAX_AMOUNT = Decimal("99999999.99")
_MAX_KNOWN_TEAMS_SHOWN = 15


def _shown(raw: str) -> str:
    """A value as an error message quotes it: never more than 40 characters of it."""
    return raw if len(raw) <= 40 else f"{raw[:40]}…"


def _amount(raw: str) -> Decimal:
    """A non-negative decimal with at most two places, or ValueError saying why."""
    shown = _shown(raw)
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"must be a number like 12 or 3.5, not {shown!r}") from None
    if not value.is_finite():
        raise ValueError(f"must be a number like 12 or 3.5, not {shown!r}")
    if value < 0:
        raise ValueError(f"cannot be negative, not {shown!r}")
    # The size first: quantizing a number like 1E+999 would itself fail.
    if value > _MAX_AMOUNT:
        raise ValueError(f"must be at most {_MAX_AMOUNT:,}, not {shown!r}")
    if value != value.quantize(_CENT):
        raise ValueError(f"may have at most 2 decimal places, not {shown!r}")
    return value.quantize(_CENT)


def _percent(raw: str) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = None
    # One message for non-numbers and out-of-range values alike: whether someone wrote "12%" or
    # 140, seeing the allowed range is what lets them fix it.
    if value is None or not value.is_finite() or not 0 <= value <= 100:
        raise ValueError(f"must be a percentage between 0 and 100, not {_shown(raw)!r}")
    return _amount(raw)  # still at most 2 decimal places


def _known_teams(teams: dict[str, Team]) -> str:
    # `teams` holds every team twice (by slug and by name); list each one once, by name.
    names = sorted({team.pk: team.name for team in teams.values()}.values(), key=str.lower)
    if not names:
        return "there are no teams yet"
    shown = ", ".join(names[:_MAX_KNOWN_TEAMS_SHOWN])
    if len(names) > _MAX_KNOWN_TEAMS_SHOWN:
        shown += f", and {len(names) - _MAX_KNOWN_TEAMS_SHOWN} more"
    return f"known: {shown}"


def _header_error(fieldnames: list[str]) -> str | None:
    missing = [c for c in COLUMNS if c not in fieldnames]
    unknown = [c for c in fieldnames if c not in COLUMNS]
    repeated = sorted({c for c in fieldnames if fieldnames.count(c) > 1})
    problems = []
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s): {', '.join(repr(c) for c in unknown)}")
    if repeated:
        problems.append(f"repeated column(s): {', '.join(repeated)}")
    if not problems:
        return None
    return "; ".join(problems) + f". The first line must be: {','.join(COLUMNS)}"


def parse_team_metrics_csv(
    text: str, *, teams: dict[str, Team]
) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """Parse and validate a team-metrics CSV. Returns (rows, errors).

    `teams` maps lower-cased slug and lower-cased name to the Team. Each row is a dict of
    TeamMetrics field values (`team` is the Team). `errors` is keyed "file", "header" or
    "line N" (N as in the file: the header is line 1) and lists every problem at once; rows
    only holds lines without problems, so callers must check `errors` first.
    """
    errors: dict[str, list[str]] = {}
    text = text.removeprefix("\ufeff")  # Excel's "CSV UTF-8" starts with a byte-order mark
    if not text.strip():
        errors["file"] = [f"is empty; the first line must be: {','.join(COLUMNS)}"]
        return [], errors

    if len(text) > limits.MAX_UPLOAD_BYTES:
        errors["file"] = [
            f"is larger than {limits.MAX_UPLOAD_BYTES:,} characters; import it in parts"
        ]
        return [], errors
    try:
        return _parse_rows(text, teams=teams, errors=errors)
    except csv.Error as exc:  # a NUL byte, an unterminated quote, a field too large
        errors["file"] = [f"is not a readable CSV file ({exc}); save it as CSV (UTF-8)"]
        return [], errors


def _parse_rows(
    text: str, *, teams: dict[str, Team], errors: dict[str, list[str]]
) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    # newline="" lets csv see the file's own line endings, so line_num matches the file.
    reader = csv.DictReader(io.StringIO(text, newline=""))
    fieldnames = [(name or "").strip().lower() for name in reader.fieldnames or []]
    header_error = _header_error(fieldnames)
    if header_error:
        # With the wrong columns every row would fail too; one message about the header helps more.
        errors["header"] = [header_error]
        return [], errors
    reader.fieldnames = fieldnames

    rows: list[dict[str, Any]] = []
    seen: dict[int, int] = {}  # team pk -> line it first appeared on
    for record in reader:
        # line_num is the record's last physical line; a quoted value can span several.
        line = reader.line_num - sum(
            value.count("\n") for value in record.values() if isinstance(value, str)
        )
        extra = record.pop(None, None)  # type: ignore[call-overload]
        values = {key: (value or "").strip() for key, value in record.items()}
        if not extra and not any(values.values()):
            continue  # spreadsheets export trailing ",,,,,,," lines; they carry nothing
        problems: list[str] = []
        if extra:
            problems.append(
                f"has {len(extra)} more value(s) than the header has columns; "
                "check for a stray comma (write 1000, not 1,000)"
            )
        row: dict[str, Any] = {}

        raw_team = values["team"]
        team = teams.get(raw_team.lower()) if raw_team else None
        if not raw_team:
            problems.append("team: is required (a team's name or slug)")
        elif team is None:
            problems.append(f"team: no team called {_shown(raw_team)!r} ({_known_teams(teams)})")
        elif team.pk in seen:
            problems.append(
                f"team: {team.name} is already on line {seen[team.pk]}; give one row per team"
            )
        else:
            seen[team.pk] = line
            row["team"] = team

        for column in COLUMNS[1:]:
            raw = values[column]
            if not raw:
                problems.append(f"{column}: is required")
            elif column in UNITS:
                unit = raw.lower()
                if unit in UNITS[column]:
                    row[column] = unit
                else:
                    problems.append(
                        f"{column}: must be one of {', '.join(UNITS[column])}, not {_shown(raw)!r}"
                    )
            else:
                parse = _percent if column == "change_failure_rate" else _amount
                try:
                    row[column] = parse(raw)
                except ValueError as exc:
                    problems.append(f"{column}: {exc}")

        if problems:
            errors[f"line {line}"] = problems
        else:
            rows.append(row)

    if not rows and not errors:
        errors["file"] = ["has a header but no rows; add one line per team"]
    return rows, limits.listed(errors)


def _teams_by_key() -> dict[str, Team]:
    all_teams = list(Team.objects.all())
    # Slugs go in last so they win if one team's name is another's slug: slugs are unique,
    # names are not.
    teams = {team.name.lower(): team for team in all_teams}
    teams.update({team.slug.lower(): team for team in all_teams})
    return teams


def team_metrics_import(*, actor: User, cycle: ReviewCycle, text: str) -> list[TeamMetrics]:
    """Create or replace each listed team's DORA metrics for `cycle`, all or nothing.

    `actor` is HR, or the system user for a trusted operator at the command line.
    """
    if not is_hr_or_system(actor):
        raise Forbidden("Only HR can import team metrics.")
    rows, errors = parse_team_metrics_csv(text, teams=_teams_by_key())
    if errors:
        bad_lines = sum(1 for key in errors if key.startswith("line "))
        if bad_lines:
            message = (
                f"{bad_lines} of {bad_lines + len(rows)} rows have problems; nothing was "
                "imported. Fix them and import the whole file again."
            )
        else:
            message = "The file is not a team-metrics CSV; nothing was imported."
        raise ValidationFailed(message, errors=errors)

    with transaction.atomic():
        # Lock the cycle so two imports into it apply one after the other, not interleaved.
        cycle = ReviewCycle.objects.select_for_update().get(pk=cycle.pk)
        imported = [
            TeamMetrics.objects.update_or_create(
                team=row["team"],
                cycle=cycle,
                defaults={key: value for key, value in row.items() if key != "team"},
            )[0]
            for row in rows
        ]
        audit.record(
            actor=actor,
            action=events.TEAM_METRICS_IMPORTED,
            target=cycle,
            payload={"teams": [row["team"].slug for row in rows], "rows": len(rows)},
        )
    return imported
