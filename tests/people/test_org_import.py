"""The organisation import: dry run, apply, idempotence, all or nothing, problems by line and
column, reorgs recorded as transfers."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from core.errors import Forbidden
from people import events
from people.models import Engineer, Team, Transfer
from people.services import org_import
from tests.factories import EngineerFactory, TeamFactory, UserFactory

HEADER = "email,name,employee_id,team,manager_email,level,start_date,active\n"
ORG = HEADER + (
    "ana@acme.test,Ana Lima,E1,Payments,mo@acme.test,L4,2021-03-01,true\n"
    "bo@acme.test,Bo Chen,E2,Payments,mo@acme.test,L3,2023-06-12,true\n"
    # A manager may come after their reports.
    "mo@acme.test,Mo Okafor,E3,Payments,,L6,2019-01-07,true\n"
)


def _csv(*rows: str) -> str:
    return HEADER + "".join(f"{r}\n" for r in rows)


def _people() -> dict[str, Any]:
    return {e.user.email: e for e in Engineer.objects.select_related("user", "team", "manager")}


@pytest.mark.django_db
def test_dry_run_lists_joiners_and_writes_nothing(hr: Any) -> None:
    events_before = AuditEvent.objects.count()
    plan = org_import(actor=hr, data=ORG, fmt="csv", dry_run=True)
    assert plan.ok
    assert plan.counts()["joiner"] == 3
    assert plan.new_teams == ["Payments"]
    assert [c.email for c in plan.changes] == ["ana@acme.test", "bo@acme.test", "mo@acme.test"]
    assert not Engineer.objects.exists() and not Team.objects.exists()
    assert AuditEvent.objects.count() == events_before


@pytest.mark.django_db
def test_apply_creates_people_teams_managers_and_roles(hr: Any) -> None:
    plan = org_import(actor=hr, data=ORG, fmt="csv")
    assert plan.ok
    people = _people()
    assert set(people) == {"ana@acme.test", "bo@acme.test", "mo@acme.test"}
    ana = people["ana@acme.test"]
    assert (ana.user.first_name, ana.user.last_name) == ("Ana", "Lima")
    assert ana.team.name == "Payments" and ana.team.slug == "payments"
    assert ana.manager == people["mo@acme.test"].user
    assert ana.level_code == "L4" and ana.employee_id == "E1"
    assert str(ana.start_date) == "2021-03-01"
    assert not ana.user.has_usable_password()  # signs in through SSO or a password reset
    assert set(ana.user.groups.values_list("name", flat=True)) == {"engineer"}
    assert set(people["mo@acme.test"].user.groups.values_list("name", flat=True)) == {
        "engineer",
        "manager",
    }
    event = AuditEvent.objects.filter(action=events.ORGANISATION_IMPORTED).get()
    assert event.payload["counts"]["joiner"] == 3
    assert event.payload["changes"][0]["email"] == "ana@acme.test"


@pytest.mark.django_db
def test_a_second_import_of_the_same_file_writes_nothing(hr: Any) -> None:
    org_import(actor=hr, data=ORG, fmt="csv")
    events_before = AuditEvent.objects.count()
    plan = org_import(actor=hr, data=ORG, fmt="csv")
    assert plan.ok and plan.changes == [] and plan.unchanged == 3
    assert AuditEvent.objects.count() == events_before


@pytest.mark.django_db
def test_reimport_with_changes_shows_each_kind(hr: Any) -> None:
    org_import(
        actor=hr, data=ORG + "lee@acme.test,Lee Park,E4,Search,,L5,2020-02-02,true\n", fmt="csv"
    )
    changed = _csv(
        # Ana moves team and manager, Bo is promoted, Mo leaves... only once nobody reports to him.
        "ana@acme.test,Ana Lima,E1,Search,lee@acme.test,L4,2021-03-01,true",
        "bo@acme.test,Bo Chen-Wu,E2,Search,lee@acme.test,L4,2023-06-12,true",
        "mo@acme.test,Mo Okafor,E3,Payments,,L6,2019-01-07,false",
        "lee@acme.test,Lee Park,E4,Search,,L5,2020-02-02,true",
        "new@acme.test,Nia West,E5,Search,lee@acme.test,L3,2026-11-02,true",
    )
    plan = org_import(actor=hr, data=changed, fmt="csv", dry_run=True)
    assert plan.ok, plan.problems
    counts = plan.counts()
    assert counts == {
        "joiner": 1,
        "returner": 0,
        "leaver": 1,
        "transfer": 2,
        "manager": 2,
        "level": 1,
        "details": 1,
    }
    assert plan.unchanged == 1
    org_import(actor=hr, data=changed, fmt="csv")
    people = _people()
    assert people["ana@acme.test"].team.name == "Search"
    assert people["bo@acme.test"].level_code == "L4"
    assert people["bo@acme.test"].user.last_name == "Chen-Wu"
    mo = people["mo@acme.test"]
    assert not mo.user.is_active and mo.team.name == "Payments"  # a leaver keeps their place
    moves = Transfer.objects.filter(engineer=people["ana@acme.test"]).get()
    assert (moves.from_team.name, moves.to_team.name) == ("Payments", "Search")
    assert (moves.from_manager, moves.to_manager) == (mo.user, people["lee@acme.test"].user)
    assert moves.source == Transfer.Source.IMPORT
    # A returner comes back active.
    back = changed.replace("Payments,,L6,2019-01-07,false", "Payments,,L6,2019-01-07,true")
    assert org_import(actor=hr, data=back, fmt="csv").counts()["returner"] == 1
    assert get_user_model().objects.get(email="mo@acme.test").is_active


@pytest.mark.django_db
def test_problems_are_named_by_line_and_column_and_nothing_is_written(hr: Any) -> None:
    bad = _csv(
        "ana@acme.test,Ana Lima,E1,Payments,mo@acme.test,L4,2021-03-01,true",
        "not-an-address,Bo Chen,E2,Payments,,L3,2023-06-12,true",
        "cy@acme.test,,E3,Payments,,L3,2023-13-12,maybe",
        "ana@acme.test,Ana Again,E9,Payments,,L3,2023-06-12,true",
        "di@acme.test,Di Fox,E1,Payments,,L3,2023-06-12,true",
        "ed@acme.test,Ed Moss,E6,Payments,ghost@acme.test,L3,2023-06-12,true",
    )
    plan = org_import(actor=hr, data=bad, fmt="csv")
    found = {(p.line, p.column) for p in plan.problems}
    assert found == {
        (2, "manager_email"),  # mo@ is nowhere
        (3, "email"),
        (4, "name"),
        (4, "start_date"),
        (4, "active"),
        (5, "email"),  # also on line 2
        (6, "employee_id"),  # also on line 2
        (7, "manager_email"),
    }
    assert "also on line 2" in next(str(p) for p in plan.problems if p.line == 5)
    assert str(next(p for p in plan.problems if p.line == 3)).startswith("line 3, email:")
    assert (
        not Engineer.objects.exists()
        and not get_user_model().objects.filter(email__endswith="@acme.test").exists()
    )


@pytest.mark.django_db
def test_levels_must_be_codes_of_the_published_rubric(hr: Any, published: Any) -> None:
    plan = org_import(
        actor=hr, data=_csv("ana@acme.test,Ana Lima,,Payments,,L9,2021-03-01,true"), fmt="csv"
    )
    [problem] = plan.problems
    assert (problem.line, problem.column) == (2, "level")
    assert "L3" in problem.message and "L9" in problem.message


@pytest.mark.django_db
def test_loops_of_managers_are_refused(hr: Any) -> None:
    plan = org_import(
        actor=hr,
        data=_csv(
            "a@acme.test,A A,,T,b@acme.test,L3,2021-03-01,true",
            "b@acme.test,B B,,T,c@acme.test,L3,2021-03-01,true",
            "c@acme.test,C C,,T,a@acme.test,L3,2021-03-01,true",
        ),
        fmt="csv",
    )
    assert [p.column for p in plan.problems] == ["manager_email"]
    assert "loop" in plan.problems[0].message


@pytest.mark.django_db
def test_a_leaver_who_still_manages_someone_outside_the_file_is_refused(hr: Any) -> None:
    boss = EngineerFactory(user=UserFactory(username="boss", email="boss@acme.test"))
    EngineerFactory(manager=boss.user)
    plan = org_import(
        actor=hr, data=_csv("boss@acme.test,Boss Person,,T,,L6,2020-01-01,false"), fmt="csv"
    )
    [problem] = plan.problems
    assert (problem.line, problem.column) == (2, "active")
    assert "still manages" in problem.message
    assert get_user_model().objects.get(username="boss").is_active


@pytest.mark.django_db
def test_header_and_file_problems(hr: Any) -> None:
    plan = org_import(actor=hr, data="email,name\nx@y.z,X\n", fmt="csv")
    [problem] = plan.problems
    assert problem.line == 0 and "missing column(s) employee_id" in problem.message
    assert org_import(actor=hr, data=b"\xff\xfe", fmt="csv").problems[0].message == (
        "The file is not UTF-8 text."
    )
    assert "not valid JSON" in org_import(actor=hr, data="[", fmt="json").problems[0].message
    assert "nobody" in org_import(actor=hr, data=HEADER, fmt="csv").problems[0].message
    too_long = _csv(f"{'a' * 250}@acme.test,A,,T,,L3,2021-03-01,true")
    assert org_import(actor=hr, data=too_long, fmt="csv").problems[0].column == "email"


@pytest.mark.django_db
def test_json_is_read_like_csv(hr: Any) -> None:
    rows = [
        {
            "email": "Ana@Acme.test",
            "name": "Ana Lima",
            "employee_id": "E1",
            "team": "Payments",
            "manager_email": "",
            "level": "L4",
            "start_date": "2021-03-01",
            "active": True,
        },
        {"email": "bo@acme.test", "name": "Bo", "team": "Payments", "level": "L3"},
    ]
    plan = org_import(actor=hr, data=json.dumps(rows), fmt="json", dry_run=True)
    assert [(p.line, p.column) for p in plan.problems] == [(2, "start_date")]
    rows.pop()
    assert org_import(actor=hr, data=json.dumps(rows), fmt="json").ok
    assert Engineer.objects.get().user.email == "ana@acme.test"


@pytest.mark.django_db
def test_people_are_matched_by_employee_id_before_email(hr: Any) -> None:
    team = TeamFactory(name="Payments", slug="payments")
    existing = EngineerFactory(
        team=team, employee_id="E1", user=UserFactory(username="ana", email="ana@old.test")
    )
    plan = org_import(
        actor=hr, data=_csv("ana@acme.test,Ana Lima,E1,Payments,,L4,2022-01-01,true"), fmt="csv"
    )
    assert plan.ok and [c.kind for c in plan.changes] == ["details"]
    existing.user.refresh_from_db()
    assert existing.user.email == "ana@acme.test"
    assert Engineer.objects.count() == 1


@pytest.mark.django_db
def test_an_existing_account_without_a_place_is_placed(hr: Any) -> None:
    plan = org_import(
        actor=hr,
        data=_csv(f"{hr.email},Harriet Hr,,People,,L5,2020-01-01,true"),
        fmt="csv",
    )
    assert plan.ok and plan.counts()["joiner"] == 1
    assert Engineer.objects.get().user == hr
    assert hr.groups.filter(name="hr").exists()


@pytest.mark.django_db
def test_only_hr_imports(engineer: Any) -> None:
    with pytest.raises(Forbidden):
        org_import(actor=engineer, data=ORG, fmt="csv", dry_run=True)


@pytest.mark.django_db
def test_the_command_dry_runs_applies_and_reports_problems(tmp_path: Any) -> None:
    path = tmp_path / "org.csv"
    path.write_text(ORG)
    out = StringIO()
    call_command("import_people", str(path), "--dry-run", stdout=out)
    assert "Joiners (3):" in out.getvalue() and "Dry run: nothing was written." in out.getvalue()
    assert not Engineer.objects.exists()
    out = StringIO()
    call_command("import_people", str(path), stdout=out)
    assert "Applied." in out.getvalue() and Engineer.objects.count() == 3
    out = StringIO()
    call_command("import_people", str(path), stdout=out)
    assert "Nothing to change." in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_text(_csv("x,Y,,T,,L3,2021-03-01,true"))
    with pytest.raises(CommandError, match=r"line 2, email: 'x' is not an e-mail address"):
        call_command("import_people", str(bad))
