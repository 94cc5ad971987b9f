"""The organisation import: a file from the HR system (CSV or JSON) becomes people, teams,
managers, levels and start dates.

`plan_import` reads the file and compares it with the organisation as it is: the plan lists
every problem (by line and column) and every change (joiners, leavers, returners, transfers,
manager, level and detail changes) without writing anything. `people.services.org_import`
applies a plan with no problems in one transaction, in batches, so 10,000 people cost a handful
of queries; a second import of the same file finds nothing to change and writes nothing.

Rows are matched to people by employee id first, then by e-mail address. People who are not in
the file stay as they are: a leaver is a row with `active` false, never an omission, so a
partial export cannot deactivate half the company.
"""

from __future__ import annotations

import csv
import datetime
import functools
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.text import slugify

from core import limits
from people.models import Engineer, Team

COLUMNS = ("email", "name", "employee_id", "team", "manager_email", "level", "start_date", "active")
REQUIRED = ("email", "name", "team", "level", "start_date")
MAX_BYTES = 10 * 1024 * 1024
# The HR page carries a checked file to its "apply" step in the form: 2 MB is some 20,000 people.
MAX_PAGE_BYTES = 2_000_000
MAX_ROWS = 50_000
BOUNDS = {"email": 254, "name": 150, "employee_id": 64, "team": 120, "level": 20}
_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n"}

# What a change is called, in the order a dry run lists them.
KINDS = {
    "joiner": "Joiners",
    "returner": "Returners",
    "leaver": "Leavers",
    "transfer": "Team changes",
    "manager": "Manager changes",
    "level": "Level changes",
    "details": "Name, e-mail, employee id or start date changes",
}


@dataclass(frozen=True)
class Problem:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "the file"
        if self.column:
            return f"{where}, {self.column}: {self.message}"
        return f"{where}: {self.message}"


@dataclass
class Row:
    """One person as the file describes them (cleaned)."""

    line: int
    email: str
    first_name: str
    last_name: str
    employee_id: str
    team: str
    manager_email: str
    level: str
    start_date: datetime.date
    active: bool


@dataclass(frozen=True)
class Change:
    kind: str
    line: int
    email: str
    name: str
    before: str = ""
    after: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "line": self.line,
            "email": self.email,
            "name": self.name,
            "before": self.before,
            "after": self.after,
        }


@dataclass
class Person:
    """An account as the import reads it: plain values, not model instances, so reading
    10,000 people costs a query's rows and nothing more."""

    pk: int
    username: str
    email: str
    first_name: str
    last_name: str
    is_active: bool
    engineer: Place | None = None

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass
class Place:
    """An engineer profile as the import reads it."""

    pk: int
    user: Person
    team_id: int
    team_name: str
    team_slug: str
    manager_id: int | None
    manager_email: str
    level_code: str
    start_date: datetime.date
    employee_id: str


@dataclass
class ImportPlan:
    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    new_teams: list[str] = field(default_factory=list)
    unchanged: int = 0
    not_in_file: int = 0
    # Filled by the planner for the writer: existing profiles and users by lower-cased e-mail.
    engineers: dict[str, Place] = field(default_factory=dict, repr=False)
    users: dict[str, Person] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(KINDS, 0)
        for change in self.changes:
            counts[change.kind] += 1
        return counts

    def grouped(self) -> list[tuple[str, list[Change]]]:
        """The changes under their headings, for the dry-run page."""
        return [
            (label, [c for c in self.changes if c.kind == kind])
            for kind, label in KINDS.items()
            if any(c.kind == kind for c in self.changes)
        ]

    def describe(self) -> list[str]:
        """The plan as lines of text (the command prints them)."""
        if self.problems:
            return [f"{len(self.problems)} problem(s); nothing was written:"] + [
                f"  {p}" for p in self.problems
            ]
        lines = [f"{len(self.rows)} people in the file; {self.unchanged} unchanged."]
        if self.new_teams:
            lines.append(f"New teams: {', '.join(self.new_teams)}")
        for label, changes in self.grouped():
            lines.append(f"{label} ({len(changes)}):")
            for c in changes:
                move = f": {c.before or '—'} → {c.after or '—'}" if c.before or c.after else ""
                lines.append(f"  line {c.line}: {c.name} <{c.email}>{move}")
        if self.not_in_file:
            lines.append(
                f"{self.not_in_file} active people are not in the file and stay as they are."
            )
        return lines

    def summary(self) -> dict[str, Any]:
        return {
            "rows": len(self.rows),
            "counts": self.counts(),
            "new_teams": self.new_teams,
            "unchanged": self.unchanged,
            "not_in_file": self.not_in_file,
        }


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _FileProblem("is not UTF-8 text") from None


class _FileProblem(Exception):
    pass


def read_records(data: bytes | str, *, fmt: str) -> list[tuple[int, dict[str, Any]]]:
    """(line, record) pairs from CSV (line numbers as a spreadsheet shows them, the header
    being line 1) or JSON (a list of objects; the position counts as the line)."""
    if len(data) > MAX_BYTES:
        raise _FileProblem(f"is larger than {MAX_BYTES // (1024 * 1024)} MB")
    text = _decode(data)
    if fmt == "json":
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _FileProblem(f"is not valid JSON ({exc.msg} at line {exc.lineno})") from None
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise _FileProblem("must be a JSON list of objects, one per person")
        if len(items) > MAX_ROWS:
            raise _FileProblem(f"has more than {MAX_ROWS:,} people")
        return [(index + 1, item) for index, item in enumerate(items)]
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s) {', '.join(unknown)}")
        raise _FileProblem(f"header: {'; '.join(parts)} (expected {','.join(COLUMNS)})")
    reader.fieldnames = header
    records: list[tuple[int, dict[str, Any]]] = []
    try:
        for record in reader:
            if len(records) >= MAX_ROWS:
                raise _FileProblem(f"has more than {MAX_ROWS:,} people")
            if None in record:
                records.append((reader.line_num, {"__extra__": True}))
                continue
            if not any((v or "").strip() for v in record.values()):
                continue  # a blank line
            records.append((reader.line_num, record))
    except csv.Error as exc:
        raise _FileProblem(f"is not valid CSV near line {reader.line_num}: {exc}") from None
    return records


def _text(record: dict[str, Any], column: str) -> str:
    value = record.get(column)
    if value is None:
        return ""
    if isinstance(value, bool | int | float) and column != "active":
        return str(value)
    return str(value).strip()


@functools.lru_cache(maxsize=4096)
def _is_email(value: str) -> bool:
    # Cached: a manager's address is checked once, not once per report.
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def _clean(line: int, record: dict[str, Any], problems: list[Problem]) -> Row | None:
    if record.get("__extra__"):
        problems.append(Problem(line, "", f"has more values than the {len(COLUMNS)} columns"))
        return None
    found: list[Problem] = []
    values = {column: _text(record, column) for column in COLUMNS}
    unknown = sorted(set(record) - set(COLUMNS))
    if unknown:
        found.append(Problem(line, unknown[0], f"unknown field (expected {', '.join(COLUMNS)})"))
    for column in REQUIRED:
        if not values[column]:
            found.append(Problem(line, column, "is required"))
    for column, bound in BOUNDS.items():
        if len(values[column]) > bound:
            found.append(Problem(line, column, f"is longer than {bound} characters"))
    email = values["email"].lower()
    manager_email = values["manager_email"].lower()
    for column, value in (("email", email), ("manager_email", manager_email)):
        if value and len(value) <= 254 and not _is_email(value):
            found.append(Problem(line, column, f"{value!r} is not an e-mail address"))
    if email and email == manager_email:
        found.append(Problem(line, "manager_email", "a person cannot manage themselves"))
    start = None
    if values["start_date"]:
        try:
            start = datetime.date.fromisoformat(values["start_date"])
        except ValueError:
            found.append(Problem(line, "start_date", "must be a date like 2024-03-01"))
        else:
            if problem := limits.date_problem(start):
                found.append(Problem(line, "start_date", problem))
    active_raw = record.get("active")
    if isinstance(active_raw, bool):
        active = active_raw
    else:
        flag = _text(record, "active").lower()
        active = flag in _TRUE or flag == ""
        if flag and flag not in _TRUE | _FALSE:
            found.append(Problem(line, "active", "must be true or false"))
    if found or start is None:
        problems.extend(found)
        return None
    first, _, last = values["name"].partition(" ")
    return Row(
        line=line,
        email=email,
        first_name=first,
        last_name=last.strip(),
        employee_id=values["employee_id"],
        team=values["team"],
        manager_email=manager_email,
        level=values["level"],
        start_date=start,
        active=active,
    )


def _name(row: Row) -> str:
    return f"{row.first_name} {row.last_name}".strip()


def plan_import(data: bytes | str, *, fmt: str, level_codes: Iterable[str] | None) -> ImportPlan:
    """Read the file and compare it with the organisation; writes nothing.

    `level_codes` are the levels of the rubrics in use (None when no rubric is published yet,
    in which case any level code is accepted)."""
    plan = ImportPlan()
    fmt = fmt.lower()
    if fmt not in ("csv", "json"):
        plan.problems.append(Problem(0, "format", "must be csv or json"))
        return plan
    try:
        records = read_records(data, fmt=fmt)
    except _FileProblem as exc:
        plan.problems.append(Problem(0, "", f"The file {exc}."))
        return plan
    if not records:
        plan.problems.append(Problem(0, "", "The file lists nobody."))
        return plan
    levels = set(level_codes) if level_codes is not None else None
    by_email: dict[str, Row] = {}
    by_employee_id: dict[str, Row] = {}
    for line, record in records:
        row = _clean(line, record, plan.problems)
        if row is None:
            continue
        if row.email in by_email:
            first = by_email[row.email].line
            plan.problems.append(Problem(line, "email", f"{row.email} is also on line {first}"))
            continue
        if row.employee_id and row.employee_id in by_employee_id:
            first = by_employee_id[row.employee_id].line
            plan.problems.append(
                Problem(line, "employee_id", f"{row.employee_id} is also on line {first}")
            )
            continue
        if levels is not None and row.level not in levels:
            plan.problems.append(
                Problem(
                    line,
                    "level",
                    f"{row.level!r} is not a level of the rubric in use "
                    f"(choose from {', '.join(sorted(levels))})",
                )
            )
            continue
        by_email[row.email] = row
        if row.employee_id:
            by_employee_id[row.employee_id] = row
        plan.rows.append(row)
    _match(plan, by_email, by_employee_id)
    _check_managers(plan, by_email)
    if plan.ok:
        _diff(plan)
    return plan


def _match(plan: ImportPlan, by_email: dict[str, Row], by_employee_id: dict[str, Row]) -> None:
    """Find who each row already is: by employee id, else by e-mail (case-insensitive). The
    whole organisation is read once (two queries), whatever the size of the file."""
    people, by_id = read_organisation()
    users: dict[str, list[Person]] = {}
    for person in people:
        if person.email:
            users.setdefault(person.email.lower(), []).append(person)
    for email, found in users.items():
        if len(found) > 1 and email in by_email:
            plan.problems.append(
                Problem(by_email[email].line, "email", f"{len(found)} people share {email}")
            )
    for row in plan.rows:
        same_address = users.get(row.email)
        by_address = same_address[0] if same_address else None
        engineer = by_id.get(row.employee_id) if row.employee_id else None
        if engineer is not None:
            if by_address is not None and by_address.pk != engineer.user.pk:
                plan.problems.append(
                    Problem(
                        row.line,
                        "email",
                        f"{row.email} belongs to someone other than employee {row.employee_id}",
                    )
                )
                continue
            plan.users[row.email] = engineer.user
            plan.engineers[row.email] = engineer
            continue
        if by_address is None:
            continue
        plan.users[row.email] = by_address
        engineer = by_address.engineer
        if engineer is None:
            continue
        if row.employee_id and engineer.employee_id:
            plan.problems.append(
                Problem(
                    row.line,
                    "employee_id",
                    f"{row.email} has employee id {engineer.employee_id} in Levelset",
                )
            )
            continue
        plan.engineers[row.email] = engineer
    # Managers who are not in the file are looked up among the people already here.
    for email, found in users.items():
        if email not in by_email:
            plan.users.setdefault(email, found[0])


def _check_managers(plan: ImportPlan, by_email: dict[str, Row]) -> None:
    """Every manager exists (in the file or already in Levelset) and is active; no loops."""
    manager_of: dict[str, str] = {}
    for row in plan.rows:
        if not row.manager_email:
            continue
        manager_row = by_email.get(row.manager_email)
        if manager_row is not None:
            if not manager_row.active and row.active:
                plan.problems.append(
                    Problem(
                        row.line,
                        "manager_email",
                        f"{row.manager_email} leaves on line {manager_row.line}",
                    )
                )
                continue
        else:
            user = plan.users.get(row.manager_email)
            if user is None:
                plan.problems.append(
                    Problem(
                        row.line,
                        "manager_email",
                        f"{row.manager_email} is neither in the file nor in Levelset",
                    )
                )
                continue
            if not user.is_active and row.active:
                plan.problems.append(
                    Problem(row.line, "manager_email", f"{row.manager_email} has left")
                )
                continue
        manager_of[row.email] = row.manager_email
    # Managers outside the file keep the manager they have in Levelset.
    for email, user in plan.users.items():
        if email not in by_email and email not in manager_of:
            engineer = user.engineer
            if engineer is not None and engineer.manager_email:
                manager_of[email] = engineer.manager_email
    leavers = {row.email: row for row in plan.rows if not row.active}
    for email, user in plan.users.items():
        manager = manager_of.get(email)
        if email not in by_email and manager in leavers and user.is_active:
            plan.problems.append(
                Problem(
                    leavers[manager].line,
                    "active",
                    f"{manager} leaves but still manages {email}, who is not in the file",
                )
            )
    reported: set[str] = set()
    for row in plan.rows:
        seen = [row.email]
        current = manager_of.get(row.email)
        while current is not None and current not in reported:
            if current in seen:
                loop = seen[seen.index(current) :]
                plan.problems.append(
                    Problem(
                        row.line,
                        "manager_email",
                        "makes a loop of managers: " + " → ".join([*loop, current]),
                    )
                )
                reported.update(loop)
                break
            seen.append(current)
            current = manager_of.get(current)


def read_organisation() -> tuple[list[Person], dict[str, Place]]:
    """Everyone, with their places, in two queries of plain values; and the places by
    employee id."""
    people = {
        row[0]: Person(*row)
        for row in get_user_model().objects.values_list(
            "pk", "username", "email", "first_name", "last_name", "is_active"
        )
    }
    emails = {pk: (p.email or "").lower() for pk, p in people.items()}
    by_id = {}
    for row in Engineer.objects.values_list(
        "pk",
        "user_id",
        "team_id",
        "team__name",
        "team__slug",
        "manager_id",
        "level_code",
        "start_date",
        "employee_id",
    ):
        pk, user_id, team_id, team_name, team_slug, manager_id, level, start, employee_id = row
        place = Place(
            pk=pk,
            user=people[user_id],
            team_id=team_id,
            team_name=team_name,
            team_slug=team_slug,
            manager_id=manager_id,
            manager_email=emails.get(manager_id, "") if manager_id else "",
            level_code=level,
            start_date=start,
            employee_id=employee_id,
        )
        people[user_id].engineer = place
        if employee_id:
            by_id[employee_id] = place
    return list(people.values()), by_id


def _diff(plan: ImportPlan) -> None:
    existing_teams = {t.name.lower() for t in Team.objects.all()}
    existing_slugs = set(Team.objects.values_list("slug", flat=True))
    new_teams = []
    for row in plan.rows:
        key = row.team.lower()
        if key not in existing_teams and slugify(row.team) not in existing_slugs:
            existing_teams.add(key)
            new_teams.append(row.team)
    plan.new_teams = new_teams
    for row in plan.rows:
        engineer = plan.engineers.get(row.email)
        user = plan.users.get(row.email)
        name = _name(row)
        before_changes = len(plan.changes)
        if engineer is None:
            if row.active:
                plan.changes.append(Change("joiner", row.line, row.email, name, after=row.team))
            elif user is not None and user.is_active:
                plan.changes.append(Change("leaver", row.line, row.email, name))
            continue
        person = engineer.user
        if row.active and not person.is_active:
            plan.changes.append(Change("returner", row.line, row.email, name, after=row.team))
        elif not row.active and person.is_active:
            plan.changes.append(Change("leaver", row.line, row.email, name))
        if engineer.team_name.lower() != row.team.lower() and engineer.team_slug != slugify(
            row.team
        ):
            plan.changes.append(
                Change("transfer", row.line, row.email, name, engineer.team_name, row.team)
            )
        current_manager = engineer.manager_email
        if current_manager != row.manager_email:
            plan.changes.append(
                Change("manager", row.line, row.email, name, current_manager, row.manager_email)
            )
        if engineer.level_code != row.level:
            plan.changes.append(
                Change("level", row.line, row.email, name, engineer.level_code, row.level)
            )
        details = _detail_changes(engineer, row)
        if details:
            before = ", ".join(f"{k}: {v[0]}" for k, v in details.items())
            after = ", ".join(f"{k}: {v[1]}" for k, v in details.items())
            plan.changes.append(Change("details", row.line, row.email, name, before, after))
        if len(plan.changes) == before_changes:
            plan.unchanged += 1
    active_mentioned = sum(1 for e in plan.engineers.values() if e.user.is_active)
    plan.not_in_file = Engineer.objects.filter(user__is_active=True).count() - active_mentioned


def _detail_changes(engineer: Place, row: Row) -> dict[str, tuple[str, str]]:
    person = engineer.user
    found = {}
    if person.first_name != row.first_name or person.last_name != row.last_name:
        found["name"] = (person.get_full_name(), _name(row))
    if person.email.lower() != row.email:
        found["email"] = (person.email, row.email)
    if row.employee_id and engineer.employee_id != row.employee_id:
        found["employee id"] = (engineer.employee_id or "none", row.employee_id)
    if engineer.start_date != row.start_date:
        found["start date"] = (engineer.start_date.isoformat(), row.start_date.isoformat())
    return found
