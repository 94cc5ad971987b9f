"""Write paths for the organisation: teams, engineer profiles and people's names. HR (or the
system user, for an operator's import) acts; each change is one transaction with its audit
event, and tells the read cache that what review lists show has changed."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from knox.models import AuthToken
from knox.settings import knox_settings

from audit import services as audit
from core import limits, readcache
from core.actors import User
from core.errors import Conflict, Forbidden, ValidationFailed
from core.roles import Role, is_hr_or_system
from people import events
from people.models import Engineer, Team

ENGINEER_FIELDS = ("team", "level_code", "manager", "start_date", "hr_attribute")
PERSON_FIELDS = ("first_name", "last_name", "email", "is_active")


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
) -> Engineer:
    """Give a person their place in the organisation."""
    _require_hr(actor)
    limits.require_dates(start_date=start_date)
    limits.require_bounded(level_code=(level_code, 20), hr_attribute=(hr_attribute, 80))
    with transaction.atomic():
        if Engineer.objects.filter(user=user).exists():
            raise ValidationFailed(
                f"{user} already has an engineer profile.", errors={"user": ["already placed"]}
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
        )
        readcache.bump()
        audit.record(
            actor=actor,
            action=events.ENGINEER_CREATED,
            target=engineer,
            payload={"after": {f: _value(getattr(engineer, f)) for f in ENGINEER_FIELDS}},
        )
    return engineer


def engineer_update(*, actor: User, engineer: Engineer, **changes: Any) -> Engineer:
    """Move an engineer (team, level, manager, start date, HR attribute). Reviews already
    opened keep the team, level and manager they were opened with."""
    _require_hr(actor)
    limits.require_dates(start_date=changes.get("start_date"))
    limits.require_bounded(
        level_code=(changes.get("level_code"), 20), hr_attribute=(changes.get("hr_attribute"), 80)
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
        if changes.get("manager") is not None:
            _check_manager(engineer.user, changes["manager"])
        before = {f: _value(getattr(engineer, f)) for f in changes}
        after = {f: _value(v) for f, v in changes.items()}
        changed = [f for f in changes if before[f] != after[f]]
        if changed:
            for field in changed:
                setattr(engineer, field, changes[field])
            engineer.save(update_fields=changed)
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
    unknown = set(changes) - set(PERSON_FIELDS)
    if unknown:
        raise ValidationFailed(
            f"Cannot change {', '.join(sorted(unknown))}.",
            errors={field: ["cannot be changed here"] for field in sorted(unknown)},
        )
    with transaction.atomic():
        person = get_user_model().objects.select_for_update().get(pk=user.pk)
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
