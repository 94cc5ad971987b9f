"""DORA team metrics from CSV: HR only, all rows or none, every bad line named with its reason."""

from __future__ import annotations

import datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.models import AuditEvent
from core.actors import system_actor
from core.errors import Forbidden, ValidationFailed
from people.models import Team
from reviews.models import ReviewCycle, TeamMetrics
from reviews.team_metrics import parse_team_metrics_csv, team_metrics_import
from tests.factories import TeamFactory

HEADER = (
    "team,deployment_frequency,deployment_frequency_unit,lead_time,lead_time_unit,"
    "change_failure_rate,time_to_restore,time_to_restore_unit"
)
GOOD = f"""{HEADER}
Data,3.5,per_day,4,hours,12.5,30,minutes
identity,2,per_week,1.25,days,0,2,hours
"""
ACTION = "reviews.team_metrics.imported"
OTHER_TEAMS = ["Billing", "Growth", "Mobile", "Payments", "Platform"]
KNOWN = "known: Billing, Data, Growth, Identity, Mobile, Payments, Platform, Search"


@pytest.fixture
def teams(db: None) -> dict[str, Team]:
    """Keyed the way the service keys them: lower-cased slug and lower-cased name."""
    made = [
        TeamFactory(slug="data", name="Data"),
        TeamFactory(slug="identity", name="Identity"),
        TeamFactory(slug="search", name="Search"),
        *(TeamFactory(slug=name.lower(), name=name) for name in OTHER_TEAMS),
    ]
    return {key: team for team in made for key in (team.slug, team.name.lower())}


@pytest.fixture
def cycle(published: Any) -> ReviewCycle:
    return ReviewCycle.objects.create(
        name="2025 H1",
        rubric_version=published,
        self_review_ends=datetime.date(2025, 6, 1),
        manager_review_ends=datetime.date(2025, 6, 15),
        calibration_ends=datetime.date(2025, 6, 30),
        finalisation_ends=datetime.date(2025, 7, 15),
    )


def stored(cycle: ReviewCycle) -> list[tuple[Any, ...]]:
    return list(
        TeamMetrics.objects.filter(cycle=cycle)
        .order_by("team__slug")
        .values_list(
            "team__slug",
            "deployment_frequency",
            "deployment_frequency_unit",
            "lead_time",
            "lead_time_unit",
            "change_failure_rate",
            "time_to_restore",
            "time_to_restore_unit",
        )
    )


GOOD_STORED = [
    ("data", Decimal("3.50"), "per_day", Decimal("4.00"), "hours", Decimal("12.50"),
     Decimal("30.00"), "minutes"),
    ("identity", Decimal("2.00"), "per_week", Decimal("1.25"), "days", Decimal("0.00"),
     Decimal("2.00"), "hours"),
]  # fmt: skip


# --- the service -----------------------------------------------------------------------------


def test_good_file_imports_every_row_and_writes_one_audit_event(
    teams: dict[str, Team], cycle: ReviewCycle, hr: Any
) -> None:
    before = AuditEvent.objects.count()

    imported = team_metrics_import(actor=hr, cycle=cycle, text=GOOD)

    assert [m.team.slug for m in imported] == ["data", "identity"]
    assert all(m.pk is not None and m.cycle_id == cycle.pk for m in imported)
    assert stored(cycle) == GOOD_STORED
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.get(action=ACTION)
    assert event.actor == hr
    assert (event.target_type, event.target_id) == ("reviews.reviewcycle", str(cycle.pk))
    assert event.payload == {"teams": ["data", "identity"], "rows": 2}


def test_importing_again_updates_in_place(
    teams: dict[str, Team], cycle: ReviewCycle, hr: Any
) -> None:
    team_metrics_import(actor=hr, cycle=cycle, text=GOOD)
    first_ids = dict(TeamMetrics.objects.values_list("team__slug", "pk"))

    # Matched by slug this time, with new numbers and units, plus a team that is new.
    team_metrics_import(
        actor=hr,
        cycle=cycle,
        text=f"{HEADER}\ndata,1,per_week,2,days,50,1,days\nSEARCH,7,per_month,9,minutes,1,5,hours\n",
    )

    assert TeamMetrics.objects.count() == 3
    assert dict(TeamMetrics.objects.values_list("team__slug", "pk"))["data"] == first_ids["data"]
    assert stored(cycle) == [
        ("data", Decimal("1.00"), "per_week", Decimal("2.00"), "days", Decimal("50.00"),
         Decimal("1.00"), "days"),
        GOOD_STORED[1],  # not in the second file: left as it was
        ("search", Decimal("7.00"), "per_month", Decimal("9.00"), "minutes", Decimal("1.00"),
         Decimal("5.00"), "hours"),
    ]  # fmt: skip
    assert list(
        AuditEvent.objects.filter(action=ACTION).order_by("seq").values_list("payload", flat=True)
    ) == [
        {"teams": ["data", "identity"], "rows": 2},
        {"teams": ["data", "search"], "rows": 2},
    ]


def test_one_bad_row_writes_nothing(teams: dict[str, Team], cycle: ReviewCycle, hr: Any) -> None:
    team_metrics_import(actor=hr, cycle=cycle, text=GOOD)
    rows_before, events_before = TeamMetrics.objects.count(), AuditEvent.objects.count()

    # The first row is good and would change Data's numbers; the second is not.
    text = f"{HEADER}\nData,9,per_day,9,hours,9,9,hours\nIdentity,2,per_week,1,days,140,2,hours\n"
    with pytest.raises(ValidationFailed) as caught:
        team_metrics_import(actor=hr, cycle=cycle, text=text)

    assert caught.value.message == (
        "1 of 2 rows have problems; nothing was imported. Fix them and import the whole file again."
    )
    assert caught.value.errors == {
        "line 3": ["change_failure_rate: must be a percentage between 0 and 100, not '140'"]
    }
    assert TeamMetrics.objects.count() == rows_before == 2
    assert AuditEvent.objects.count() == events_before
    assert stored(cycle) == GOOD_STORED


def test_bad_header_writes_nothing(teams: dict[str, Team], cycle: ReviewCycle, hr: Any) -> None:
    events_before = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        team_metrics_import(actor=hr, cycle=cycle, text="team,lead_time\nData,4\n")

    assert caught.value.message == "The file is not a team-metrics CSV; nothing was imported."
    assert list(caught.value.errors) == ["header"]
    assert TeamMetrics.objects.count() == 0
    assert AuditEvent.objects.count() == events_before


@pytest.mark.parametrize("role", ["engineer", "manager", "facilitator", "outsider"])
def test_only_hr_may_import(
    teams: dict[str, Team], cycle: ReviewCycle, role: str, request: pytest.FixtureRequest
) -> None:
    actor = request.getfixturevalue(role)
    events_before = AuditEvent.objects.count()

    with pytest.raises(Forbidden) as caught:
        team_metrics_import(actor=actor, cycle=cycle, text=GOOD)

    assert caught.value.message == "Only HR can import team metrics."
    assert TeamMetrics.objects.count() == 0
    assert AuditEvent.objects.count() == events_before


def test_operator_at_the_command_line_is_recorded_as_system(
    teams: dict[str, Team], cycle: ReviewCycle
) -> None:
    team_metrics_import(actor=system_actor(), cycle=cycle, text=GOOD)

    event = AuditEvent.objects.get(action=ACTION)
    assert (event.actor.username, event.actor_repr) == ("levelset-system", "system")
    assert TeamMetrics.objects.count() == 2


# --- parsing ---------------------------------------------------------------------------------


def test_parses_values_as_decimals_and_matches_teams_by_name_or_slug(
    teams: dict[str, Team],
) -> None:
    text = f"{HEADER}\n  SEARCH , 0.5 , PER_MONTH ,10,Minutes,99.99,1.5,days\n"

    rows, errors = parse_team_metrics_csv(text, teams=teams)

    assert errors == {}
    assert rows == [
        {
            "team": teams["search"],
            "deployment_frequency": Decimal("0.50"),
            "deployment_frequency_unit": "per_month",
            "lead_time": Decimal("10.00"),
            "lead_time_unit": "minutes",
            "change_failure_rate": Decimal("99.99"),
            "time_to_restore": Decimal("1.50"),
            "time_to_restore_unit": "days",
        }
    ]


def test_reports_every_bad_row_with_its_line_and_reason(teams: dict[str, Team]) -> None:
    text = "\n".join(
        [
            HEADER,
            "Data,3,per_day,4,hours,10,1,hours",  # line 2: fine
            "Identity,3,per_day,4,hours,140,1,hours",  # line 3
            "Search,lots,per_day,4,hours,10,1,hours",  # line 4
            "Serach,3,per_day,4,hours,10,1,hours",  # line 5
            "data,3,per_day,4,hours,10,1,hours",  # line 6: Data again, by slug
            "Billing,3,weekly,4,fortnights,10,1,hours",  # line 7
            "Growth,-1,per_day,4.555,hours,,1,hours",  # line 8
            "Mobile,3,per_day,4,hours,10,1",  # line 9: a value short
            "Payments,3,per_day,4,hours,10,1,hours,extra",  # line 10: a value too many
            ",3,per_day,4,hours,10,1,hours",  # line 11
            "Platform,3,per_day,4,hours,12%,NaN,hours",  # line 12
            "Search,3,per_day,4,hours,10,1,hours",  # line 13: Search again, after a bad line 4
        ]
    )

    rows, errors = parse_team_metrics_csv(text, teams=teams)

    assert [row["team"].slug for row in rows] == ["data"]
    assert errors == {
        "line 3": ["change_failure_rate: must be a percentage between 0 and 100, not '140'"],
        "line 4": ["deployment_frequency: must be a number like 12 or 3.5, not 'lots'"],
        "line 5": [f"team: no team called 'Serach' ({KNOWN})"],
        "line 6": ["team: Data is already on line 2; give one row per team"],
        "line 7": [
            "deployment_frequency_unit: must be one of per_day, per_week, per_month, not 'weekly'",
            "lead_time_unit: must be one of minutes, hours, days, not 'fortnights'",
        ],
        "line 8": [
            "deployment_frequency: cannot be negative, not '-1'",
            "lead_time: may have at most 2 decimal places, not '4.555'",
            "change_failure_rate: is required",
        ],
        "line 9": ["time_to_restore_unit: is required"],
        "line 10": [
            "has 1 more value(s) than the header has columns; "
            "check for a stray comma (write 1000, not 1,000)"
        ],
        "line 11": ["team: is required (a team's name or slug)"],
        "line 12": [
            "change_failure_rate: must be a percentage between 0 and 100, not '12%'",
            "time_to_restore: must be a number like 12 or 3.5, not 'NaN'",
        ],
        "line 13": ["team: Search is already on line 4; give one row per team"],
    }


def test_line_numbers_count_blank_lines_and_windows_line_endings(teams: dict[str, Team]) -> None:
    # A byte-order mark, CRLF endings, a blank line and a spreadsheet's empty ",,,,,,," line.
    text = (
        f"\ufeff{HEADER}\r\n\r\nData,3,per_day,4,hours,10,1,hours\r\n"
        ",,,,,,,\r\nX,3,per_day,4,hours,10,1,hours\r\n"
    )

    rows, errors = parse_team_metrics_csv(text, teams=teams)

    assert [row["team"].slug for row in rows] == ["data"]
    assert errors == {"line 5": [f"team: no team called 'X' ({KNOWN})"]}


def test_a_quoted_value_over_two_lines_is_reported_at_its_first_line(
    teams: dict[str, Team],
) -> None:
    text = f'{HEADER}\n"Da\nta",3,per_day,4,hours,10,1,hours\nX,3,per_day,4,hours,10,1,hours\n'

    _, errors = parse_team_metrics_csv(text, teams=teams)

    assert errors == {
        "line 2": [f"team: no team called 'Da\\nta' ({KNOWN})"],
        "line 4": [f"team: no team called 'X' ({KNOWN})"],
    }


def test_missing_and_unknown_columns_are_one_header_error(teams: dict[str, Team]) -> None:
    header = HEADER.replace(",change_failure_rate", ",cfr").replace(",time_to_restore_unit", "")

    rows, errors = parse_team_metrics_csv(f"{header}\nData,3,per_day,4,hours,10,1\n", teams=teams)

    assert rows == []
    assert errors == {
        "header": [
            "missing column(s): change_failure_rate, time_to_restore_unit; "
            "unknown column(s): 'cfr'. The first line must be: " + HEADER
        ]
    }


def test_long_team_lists_are_shortened(db: None) -> None:
    made = [TeamFactory(slug=f"t{n:02}", name=f"T{n:02}") for n in range(20)]
    teams = {team.slug: team for team in made}

    _, errors = parse_team_metrics_csv(
        f"{HEADER}\nNope,3,per_day,4,hours,10,1,hours\n", teams=teams
    )

    shown = ", ".join(f"T{n:02}" for n in range(15))
    assert errors == {"line 2": [f"team: no team called 'Nope' (known: {shown}, and 5 more)"]}


@pytest.mark.parametrize(
    ("text", "errors"),
    [
        ("", {"file": [f"is empty; the first line must be: {HEADER}"]}),
        ("\n  \n", {"file": [f"is empty; the first line must be: {HEADER}"]}),
        (f"{HEADER}\n", {"file": ["has a header but no rows; add one line per team"]}),
    ],
)
def test_empty_file_is_an_error(
    teams: dict[str, Team], text: str, errors: dict[str, list[str]]
) -> None:
    assert parse_team_metrics_csv(text, teams=teams) == ([], errors)


# --- the command -----------------------------------------------------------------------------


def test_command_imports_a_file(teams: dict[str, Team], cycle: ReviewCycle, tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    path.write_text(GOOD, encoding="utf-8")
    out = StringIO()

    call_command("import_team_metrics", str(path), "--cycle", str(cycle.pk), stdout=out)

    assert out.getvalue() == "Imported metrics for 2 teams into 2025 H1.\n"
    assert stored(cycle) == GOOD_STORED
    assert AuditEvent.objects.get(action=ACTION).actor_repr == "system"


def test_command_lists_every_problem_and_writes_nothing(
    teams: dict[str, Team], cycle: ReviewCycle, tmp_path: Path
) -> None:
    path = tmp_path / "metrics.csv"
    path.write_text(
        f"{HEADER}\nData,3,per_day,4,hours,10,1,hours\n"
        "Identity,3,per_day,4,hours,140,1,hours\nSerach,3,per_day,4,hours,10,1,hours\n",
        encoding="utf-8",
    )
    events_before = AuditEvent.objects.count()

    with pytest.raises(CommandError) as caught:
        call_command("import_team_metrics", str(path), "--cycle", str(cycle.pk))

    assert str(caught.value) == (
        f"{path}: 2 of 3 rows have problems; nothing was imported. "
        "Fix them and import the whole file again.\n"
        "  line 3: change_failure_rate: must be a percentage between 0 and 100, not '140'\n"
        f"  line 4: team: no team called 'Serach' ({KNOWN})"
    )
    # From a shell, BaseCommand prints the message and exits with this status.
    assert caught.value.returncode == 1
    assert TeamMetrics.objects.count() == 0
    assert AuditEvent.objects.count() == events_before


def test_command_refuses_unknown_cycle_and_unreadable_file(
    teams: dict[str, Team], cycle: ReviewCycle, tmp_path: Path
) -> None:
    path = tmp_path / "metrics.csv"
    path.write_text(GOOD, encoding="utf-8")

    with pytest.raises(CommandError) as caught:
        call_command("import_team_metrics", str(path), "--cycle", "999999")
    assert str(caught.value) == f"No review cycle with id 999999; known: {cycle.pk} (2025 H1)."

    missing = tmp_path / "nope.csv"
    with pytest.raises(CommandError) as caught:
        call_command("import_team_metrics", str(missing), "--cycle", str(cycle.pk))
    assert str(caught.value) == f"Cannot read {missing}: No such file or directory."

    assert TeamMetrics.objects.count() == 0


def test_figures_are_shown_in_words() -> None:
    metrics = TeamMetrics(
        deployment_frequency=Decimal("13.00"),
        deployment_frequency_unit="per_week",
        lead_time=Decimal("26.50"),
        lead_time_unit="hours",
        change_failure_rate=Decimal("100.00"),
        time_to_restore=Decimal("45.00"),
        time_to_restore_unit="minutes",
    )
    assert metrics.shown() == {
        "Deployment frequency": "13 per week",
        "Lead time for changes": "26.5 hours",
        "Change failure rate": "100%",
        "Time to restore": "45 minutes",
    }
