"""Write paths for the organisation: teams, engineer profiles and people's names. HR (or the
system user, for an operator's import) acts; each change is one transaction with its audit
event, and tells the read cache that what review lists show has changed."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from knox.models import AuthToken
from knox.settings import knox_settings

from audit import services as audit
from core import limits, readcache
from core.actors import User
from core.errors import Conflict, Forbidden, ValidationFailed
from core.roles import Role, is_hr_or_system
from people import events
from people.models import Engineer, Team, Transfer
from people.org_import import ImportPlan, Person, Row, plan_import
from people.signals import engineers_moved
from rubrics.selectors import level_codes_in_use

ENGINEER_FIELDS = ("team", "level_code", "manager", "start_date", "hr_attribute", "employee_id")
PERSON_FIELDS = ("first_name", "last_name", "email", "is_active")
# An identity provider renames people's accounts too (SCIM userName).
PERSON_UPDATE_FIELDS = (*PERSON_FIELDS, "username")


def _require_hr(actor: User) -> None:
    # A superuser in the Django admin administers too: their changes are audited the same way.
    if not (is_hr_or_system(actor) or actor.is_superuser):
        raise Forbidden("Only HR can change the organisation.")


def _value(value: Any) -> Any:
    """A field's value as the audit log records it."""
    if isinstance(value, Team):
        return value.slug
    if isinstance(value, get_user_model()):
        return value.get_username()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _check_manager(engineer_user: Any, manager: Any) -> None:
    """Nobody manages themselves, directly or through a chain of managers."""
    seen = {engineer_user.pk}
    current = manager
    while current is not None:
        if current.pk in seen:
            raise ValidationFailed(
                f"{manager} cannot manage {engineer_user}: that would make a loop of managers.",
                errors={"manager": ["would make a loop of managers"]},
            )
        seen.add(current.pk)
        profile = Engineer.objects.filter(user=current).select_related("manager").first()
        current = profile.manager if profile is not None else None


def team_create(*, actor: User, slug: str, name: str) -> Team:
    _require_hr(actor)
    with transaction.atomic():
        if Team.objects.filter(slug=slug).exists():
            raise ValidationFailed(
                f"A team with the slug {slug!r} exists.", errors={"slug": ["already taken"]}
            )
        team = Team.objects.create(slug=slug, name=name)
        readcache.bump()  # the pickers and the lists of teams show it at once
        audit.record(actor=actor, action=events.TEAM_CREATED, target=team, payload={"name": name})
    return team


def team_update(*, actor: User, team: Team, name: str) -> Team:
    _require_hr(actor)
    with transaction.atomic():
        team = Team.objects.select_for_update().get(pk=team.pk)
        before = team.name
        if before != name:
            team.name = name
            team.save(update_fields=["name"])
            readcache.bump()
            audit.record(
                actor=actor,
                action=events.TEAM_CHANGED,
                target=team,
                payload={"before": {"name": before}, "after": {"name": name}},
            )
    return team


def engineer_create(
    *,
    actor: User,
    user: Any,
    team: Team,
    level_code: str,
    start_date: datetime.date,
    manager: Any = None,
    hr_attribute: str = "",
    employee_id: str = "",
) -> Engineer:
    """Give a person their place in the organisation."""
    _require_hr(actor)
    limits.require_dates(start_date=start_date)
    limits.require_bounded(
        level_code=(level_code, 20), hr_attribute=(hr_attribute, 80), employee_id=(employee_id, 64)
    )
    with transaction.atomic():
        if Engineer.objects.filter(user=user).exists():
            raise ValidationFailed(
                f"{user} already has an engineer profile.", errors={"user": ["already placed"]}
            )
        if employee_id and Engineer.objects.filter(employee_id=employee_id).exists():
            raise ValidationFailed(
                f"Employee id {employee_id} belongs to someone else.",
                errors={"employee_id": ["already taken"]},
            )
        if manager is not None:
            _check_manager(user, manager)
        engineer = Engineer.objects.create(
            user=user,
            team=team,
            level_code=level_code,
            manager=manager,
            start_date=start_date,
            hr_attribute=hr_attribute,
            employee_id=employee_id,
        )
        readcache.bump()
        audit.record(
            actor=actor,
            action=events.ENGINEER_CREATED,
            target=engineer,
            payload={"after": {f: _value(getattr(engineer, f)) for f in ENGINEER_FIELDS}},
        )
    return engineer


def engineer_update(
    *, actor: User, engineer: Engineer, source: str = Transfer.Source.HR, **changes: Any
) -> Engineer:
    """Move an engineer (team, level, manager, start date, HR attribute, employee id). Reviews
    already opened keep the team and level they were opened with; a move to another manager is
    recorded as a transfer (`source` says where it came from) and open reviews follow it."""
    _require_hr(actor)
    limits.require_dates(start_date=changes.get("start_date"))
    limits.require_bounded(
        level_code=(changes.get("level_code"), 20),
        hr_attribute=(changes.get("hr_attribute"), 80),
        employee_id=(changes.get("employee_id"), 64),
    )
    unknown = set(changes) - set(ENGINEER_FIELDS)
    if unknown:
        raise ValidationFailed(
            f"Cannot change {', '.join(sorted(unknown))}.",
            errors={field: ["cannot be changed here"] for field in sorted(unknown)},
        )
    with transaction.atomic():
        engineer = (
            Engineer.objects.select_for_update(of=("self",))
            .select_related("user", "team", "manager")
            .get(pk=engineer.pk)
        )
        employee_id = changes.get("employee_id")
        if employee_id and (
            Engineer.objects.filter(employee_id=employee_id).exclude(pk=engineer.pk).exists()
        ):
            raise ValidationFailed(
                f"Employee id {employee_id} belongs to someone else.",
                errors={"employee_id": ["already taken"]},
            )
        if changes.get("manager") is not None:
            _check_manager(engineer.user, changes["manager"])
        before = {f: _value(getattr(engineer, f)) for f in changes}
        after = {f: _value(v) for f, v in changes.items()}
        changed = [f for f in changes if before[f] != after[f]]
        if changed:
            moved_from = (engineer.team_id, engineer.manager_id, engineer.level_code)
            for field in changed:
                setattr(engineer, field, changes[field])
            engineer.save(update_fields=changed)
            if moved_from != (engineer.team_id, engineer.manager_id, engineer.level_code):
                _record_transfers(
                    actor,
                    [
                        Transfer(
                            engineer=engineer,
                            at=timezone.now(),
                            source=source,
                            from_team_id=moved_from[0],
                            to_team_id=engineer.team_id,
                            from_manager_id=moved_from[1],
                            to_manager_id=engineer.manager_id,
                            from_level=moved_from[2],
                            to_level=engineer.level_code,
                        )
                    ],
                )
            readcache.bump()
            audit.record(
                actor=actor,
                action=events.ENGINEER_CHANGED,
                target=engineer,
                payload={
                    "before": {f: before[f] for f in changed},
                    "after": {f: after[f] for f in changed},
                },
            )
    return engineer


def person_update(*, actor: User, user: Any, **changes: Any) -> Any:
    """Change a person's name or e-mail address, or deactivate them (a leaver keeps every
    review and its history; they can no longer sign in)."""
    _require_hr(actor)
    unknown = set(changes) - set(PERSON_UPDATE_FIELDS)
    if unknown:
        raise ValidationFailed(
            f"Cannot change {', '.join(sorted(unknown))}.",
            errors={field: ["cannot be changed here"] for field in sorted(unknown)},
        )
    limits.require_bounded(
        **{f: (changes.get(f), 150 if f != "email" else 254) for f in changes if f != "is_active"}
    )
    with transaction.atomic():
        person = get_user_model().objects.select_for_update().get(pk=user.pk)
        others = get_user_model().objects.exclude(pk=user.pk)
        if "username" in changes and others.filter(username=changes["username"]).exists():
            raise ValidationFailed(
                f"{changes['username']!r} is taken.", errors={"username": ["already taken"]}
            )
        changed = [f for f, v in changes.items() if getattr(person, f) != v]
        if changed:
            before = {f: getattr(person, f) for f in changed}
            for field in changed:
                setattr(person, field, changes[field])
            person.save(update_fields=changed)
            readcache.bump()
            audit.record(
                actor=actor,
                action=events.PERSON_CHANGED,
                target=person,
                payload={"before": before, "after": {f: changes[f] for f in changed}},
            )
    return person


def check_manager(engineer_user: Any, manager: Any) -> None:
    """Refuse a manager that would make a loop (the admin asks before it saves)."""
    if manager is not None:
        _check_manager(engineer_user, manager)


def person_create(*, actor: User, username: str, password: str | None = None, **fields: Any) -> Any:
    """Add a person who can sign in (their place in the organisation is `engineer_create`)."""
    _require_hr(actor)
    unknown = set(fields) - set(PERSON_FIELDS)
    if unknown:
        raise ValidationFailed(
            f"Cannot set {', '.join(sorted(unknown))}.",
            errors={field: ["cannot be set here"] for field in sorted(unknown)},
        )
    with transaction.atomic():
        if get_user_model().objects.filter(username=username).exists():
            raise ValidationFailed(
                f"{username!r} is taken.", errors={"username": ["already taken"]}
            )
        person = get_user_model().objects.create_user(
            username=username, password=password, **fields
        )
        audit.record(
            actor=actor,
            action=events.PERSON_CREATED,
            target=person,
            payload={"username": username, **{f: _value(v) for f, v in fields.items()}},
        )
    return person


def person_set_roles(*, actor: User, user: Any, roles: Iterable[str]) -> Any:
    """Give a person exactly these roles (engineer, manager, facilitator, HR, committee)."""
    _require_hr(actor)
    wanted = set(roles)
    unknown = wanted - set(Role.values)
    if unknown:
        raise ValidationFailed(
            f"Unknown role {', '.join(sorted(unknown))}.",
            errors={"roles": [f"choose from {', '.join(Role.values)}"]},
        )
    with transaction.atomic():
        person = get_user_model().objects.select_for_update().get(pk=user.pk)
        before = set(person.groups.values_list("name", flat=True))
        if before != wanted:
            groups = [Group.objects.get_or_create(name=name)[0] for name in sorted(wanted)]
            person.groups.set(groups)
            readcache.bump()  # what a person may see depends on their roles
            audit.record(
                actor=actor,
                action=events.PERSON_ROLES_CHANGED,
                target=person,
                payload={"before": sorted(before), "after": sorted(wanted)},
            )
    return person


def token_issue(*, actor: User) -> tuple[AuthToken, str]:
    """An API token for the actor: stored hashed, shown once, expiring (REST_KNOX)."""
    with transaction.atomic():
        live = AuthToken.objects.filter(user=actor, expiry__gt=timezone.now())
        if live.count() >= knox_settings.TOKEN_LIMIT_PER_USER:
            raise Conflict(
                f"You have {knox_settings.TOKEN_LIMIT_PER_USER} live API tokens; revoke one first."
            )
        instance, token = AuthToken.objects.create(user=actor)
        audit.record(
            actor=actor,
            action=events.TOKEN_ISSUED,
            target=actor,
            payload={"token": instance.token_key, "expiry": instance.expiry},
        )
    return instance, token


def token_revoke(*, actor: User, token_key: str) -> None:
    """Revoke one of the actor's own API tokens (by the first characters it is listed by)."""
    with transaction.atomic():
        token = AuthToken.objects.filter(user=actor, token_key=token_key).first()
        if token is None:
            raise ValidationFailed(
                "You have no API token starting with those characters.",
                errors={"token": ["not one of your tokens"]},
            )
        token.delete()
        audit.record(
            actor=actor, action=events.TOKEN_REVOKED, target=actor, payload={"token": token_key}
        )


def org_import(*, actor: User, data: bytes | str, fmt: str, dry_run: bool = False) -> ImportPlan:
    """Bring the organisation in line with a file from the HR system (see people.org_import).

    The plan is made inside the transaction that applies it, with the organisation locked
    against a second import, so what is written is exactly what was checked. Nothing is written
    when any row has a problem, on a dry run, or when nothing changed."""
    _require_hr(actor)
    with transaction.atomic():
        if not dry_run:
            # One import at a time: the second waits, then plans against what the first wrote.
            list(Team.objects.select_for_update().order_by("pk").values_list("pk")[:1])
        plan = plan_import(data, fmt=fmt, level_codes=level_codes_in_use())
        if dry_run or not plan.ok or not (plan.changes or plan.new_teams):
            return plan
        _write_plan(actor, plan)
    return plan


def _record_transfers(actor: User, transfers: list[Transfer]) -> None:
    """Keep the moves, and let the apps above follow them in this transaction (reviews still
    open move to the new manager; see reviews.services.reviews_follow_transfers)."""
    if transfers:
        Transfer.objects.bulk_create(transfers, batch_size=1000)
        engineers_moved.send(sender=Transfer, transfers=transfers, actor=actor)


def _unique_slug(name: str, taken: set[str]) -> str:
    base = (slugify(name) or "team")[:70]
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


def _write_plan(actor: User, plan: ImportPlan) -> None:
    """Write a checked plan in batches: a constant number of queries whatever its size."""
    user_model = get_user_model()
    now = timezone.now()
    teams = {t.name.lower(): t for t in Team.objects.all()}
    teams.update({t.slug: t for t in teams.values()})
    taken = {t.slug for t in teams.values()}
    Team.objects.bulk_create(
        [Team(slug=_unique_slug(name, taken), name=name) for name in plan.new_teams]
    )
    for team in Team.objects.filter(name__in=plan.new_teams):
        teams[team.name.lower()] = team

    def team_for(row: Row) -> Team:
        return teams.get(row.team.lower()) or teams[slugify(row.team)]

    # People: new ones (no usable password until SSO or a reset), then changed ones.
    usernames = set(user_model.objects.values_list("username", flat=True))
    # Any "!"-prefixed hash is unusable; one for the batch spares 10,000 random strings.
    no_password = make_password(None)
    new_users = []
    for row in plan.rows:
        if row.email in plan.users or not row.active:
            continue
        username, n = row.email[:150], 2
        while username in usernames:
            username, n = f"{row.email[:140]}-{n}", n + 1
        usernames.add(username)
        new_users.append(
            user_model(
                username=username,
                email=row.email,
                first_name=row.first_name,
                last_name=row.last_name,
                password=no_password,
            )
        )
    user_model.objects.bulk_create(new_users, batch_size=1000)
    new_emails = {u.email for u in new_users}
    created = {u.username for u in new_users}
    for pk, username, email in user_model.objects.values_list("pk", "username", "email"):
        if username in created:
            plan.users[email.lower()] = Person(pk, username, email, "", "", True)
    changed_users = []
    for row in plan.rows:
        person = plan.users.get(row.email)
        if person is None or row.email in new_emails:
            continue
        wanted = {
            "first_name": row.first_name,
            "last_name": row.last_name,
            "email": row.email,
            "is_active": row.active,
        }
        if row.email not in plan.engineers and not row.active:
            wanted = {"is_active": False}
        if any(getattr(person, f) != v for f, v in wanted.items()):
            for f, v in wanted.items():
                setattr(person, f, v)
            changed_users.append(
                user_model(
                    pk=person.pk,
                    first_name=person.first_name,
                    last_name=person.last_name,
                    email=person.email,
                    is_active=person.is_active,
                )
            )
    user_model.objects.bulk_update(
        changed_users, ["first_name", "last_name", "email", "is_active"], batch_size=1000
    )

    # Places in the organisation, and the moves of people already placed.
    new_engineers, changed_engineers, transfers = [], [], []
    for row in plan.rows:
        person = plan.users.get(row.email)
        if person is None:
            continue
        manager = plan.users.get(row.manager_email) if row.manager_email else None
        team = team_for(row)
        engineer = plan.engineers.get(row.email)
        if engineer is None:
            if row.active:
                new_engineers.append(
                    Engineer(
                        user_id=person.pk,
                        team=team,
                        level_code=row.level,
                        manager_id=getattr(manager, "pk", None),
                        start_date=row.start_date,
                        employee_id=row.employee_id,
                    )
                )
            continue
        moved = (
            engineer.team_id != team.pk
            or engineer.manager_id != getattr(manager, "pk", None)
            or engineer.level_code != row.level
        )
        if moved:
            transfers.append(
                Transfer(
                    engineer_id=engineer.pk,
                    at=now,
                    source=Transfer.Source.IMPORT,
                    from_team_id=engineer.team_id,
                    to_team=team,
                    from_manager_id=engineer.manager_id,
                    to_manager_id=getattr(manager, "pk", None),
                    from_level=engineer.level_code,
                    to_level=row.level,
                )
            )
        employee_id = row.employee_id or engineer.employee_id
        if moved or (engineer.start_date, engineer.employee_id) != (row.start_date, employee_id):
            changed_engineers.append(
                Engineer(
                    pk=engineer.pk,
                    user_id=person.pk,
                    team=team,
                    manager_id=getattr(manager, "pk", None),
                    level_code=row.level,
                    start_date=row.start_date,
                    employee_id=employee_id,
                )
            )
    Engineer.objects.bulk_create(new_engineers, batch_size=1000)
    Engineer.objects.bulk_update(
        changed_engineers,
        ["team", "manager", "level_code", "start_date", "employee_id"],
        batch_size=1000,
    )
    _record_transfers(actor, transfers)

    # Roles: everyone imported is an engineer; whoever manages someone is a manager.
    engineer_group, _ = Group.objects.get_or_create(name=Role.ENGINEER)
    manager_group, _ = Group.objects.get_or_create(name=Role.MANAGER)
    memberships = user_model.groups.through
    manager_ids = {
        plan.users[row.manager_email].pk for row in plan.rows if row.manager_email and row.active
    }
    memberships.objects.bulk_create(
        [memberships(user_id=u.pk, group_id=engineer_group.pk) for u in new_users]
        + [memberships(user_id=pk, group_id=manager_group.pk) for pk in sorted(manager_ids)],
        ignore_conflicts=True,
        batch_size=1000,
    )
    readcache.bump()
    audit.record(
        actor=actor,
        action=events.ORGANISATION_IMPORTED,
        target_type="organisation",
        payload={**plan.summary(), "changes": [c.as_dict() for c in plan.changes]},
    )
