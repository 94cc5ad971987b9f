"""Write paths of team metrics: delivery sources and the events they send."""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit import services as audit
from core import limits, readcache
from core.actors import User
from core.errors import Conflict, Forbidden, ValidationFailed
from core.roles import is_hr_or_system
from metrics import events as actions
from metrics.intake import Event
from metrics.models import (
    Change,
    DeliverySource,
    Deployment,
    DeploymentChange,
    Incident,
    Indicator,
)
from metrics.selectors import delivery_scope
from people.models import Team

_BATCH = 1000


def _require_hr(actor: User) -> None:
    if not is_hr_or_system(actor):
        raise Forbidden("Only HR may manage delivery events and their sources.")


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def source_create(*, actor: User, name: str) -> tuple[DeliverySource, str]:
    """A new source and its token, shown this once: only its digest is kept."""
    _require_hr(actor)
    name = name.strip()
    if not name or len(name) > 80:
        raise ValidationFailed(
            "Name the source in 1 to 80 characters.", errors={"name": ["1 to 80 characters"]}
        )
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        if DeliverySource.objects.filter(name__iexact=name).exists():
            raise ValidationFailed(
                f"A source named {name!r} exists.", errors={"name": ["already taken"]}
            )
        source = DeliverySource.objects.create(
            name=name, token_digest=token_digest(token), owner=actor
        )
        audit.record(
            actor=actor, action=actions.SOURCE_CREATED, target=source, payload={"name": name}
        )
    return source, token


def source_revoke(*, actor: User, source: DeliverySource) -> DeliverySource:
    _require_hr(actor)
    with transaction.atomic():
        source = DeliverySource.objects.select_for_update().get(pk=source.pk)
        if source.revoked_at is not None:
            raise Conflict(f"The source {source.name!r} is revoked already.")
        source.revoked_at = timezone.now()
        source.save(update_fields=["revoked_at"])
        audit.record(
            actor=actor, action=actions.SOURCE_REVOKED, target=source, payload={"name": source.name}
        )
    return source


@dataclass(frozen=True)
class Ingested:
    received: int
    new: int

    @property
    def known(self) -> int:
        """Events sent before (same kind, service and id): they changed nothing."""
        return self.received - self.new


def events_ingest(
    *, actor: User, events: list[Event], source: DeliverySource | None = None
) -> Ingested:
    """Store the events not seen before; an event sent again (same kind, service and id)
    changes nothing, even if its fields differ. All or nothing: an unknown team refuses the
    whole batch. A deployment's changes are linked to it as soon as both are known."""
    _require_hr(actor)
    teams = _teams(events)
    unique = list({(e.kind, e.service, e.id): e for e in reversed(events)}.values())[::-1]
    by_kind: dict[str, list[Event]] = defaultdict(list)
    for event in unique:
        by_kind[event.kind].append(event)
    counts = {kind: len(items) for kind, items in by_kind.items()}
    with transaction.atomic():
        if source is not None:
            source = DeliverySource.objects.select_for_update().get(pk=source.pk)
            if not source.is_active:
                raise Forbidden(f"The source {source.name!r} is revoked.")
            source.last_used_at = timezone.now()
            source.save(update_fields=["last_used_at"])
        moved: set[int] = set()  # the teams whose figures the new events change
        new = _changes(by_kind["change"], teams, source, moved)
        new += _deployments(by_kind["deployment"], teams, source, moved)
        new += _incidents(by_kind["incident"], teams, source, moved)
        new += _indicators(by_kind["indicator"], teams, source, moved)
        if moved:
            readcache.bump(*(delivery_scope(team_id) for team_id in sorted(moved)))
        audit.record(
            actor=actor,
            action=actions.EVENTS_INGESTED,
            target_type="metrics.deliveryevent",
            payload={
                "source": source.name if source else "",
                "received": len(events),
                "new": new,
                **counts,
            },
        )
    return Ingested(received=len(events), new=new)


def _teams(events: list[Event]) -> dict[str, Team]:
    """Each named team, by slug or by name; ValidationFailed naming the unknown ones."""
    names = {e.team for e in events}
    found: dict[str, Team] = {}
    for team in Team.objects.filter(Q(slug__in=names) | Q(name__in=names)):
        found.setdefault(team.slug, team)
        found.setdefault(team.name, team)
    missing: dict[str, list[str]] = {}
    for index, event in enumerate(events):
        if event.team not in found:
            missing[f"[{index}].team"] = [f"no team is named {event.team!r}"]
            if len(missing) >= limits.MAX_ERRORS_LISTED:
                break
    if missing:
        raise ValidationFailed.from_errors(missing, "No event was saved: ")
    return found


Stored = TypeVar("Stored", Change, Deployment, Incident, Indicator)


def _ids(model: type[Stored], events: list[Event]) -> dict[tuple[str, str], int]:
    """The stored rows of `model` among these events' (service, id) pairs: their keys."""
    ids: dict[tuple[str, str], int] = {}
    for start in range(0, len(events), _BATCH):
        chunk = events[start : start + _BATCH]
        rows = model.objects.filter(
            service__in={e.service for e in chunk}, external_id__in={e.id for e in chunk}
        ).values_list("service", "external_id", "pk")
        ids.update({(service, ext): pk for service, ext, pk in rows})
    return ids


def _store(
    model: type[Stored],
    events: list[Event],
    teams: dict[str, Team],
    source: DeliverySource | None,
    fields: Callable[[Event], dict[str, Any]],
) -> list[Event]:
    """Store the events not seen before (by service and id), each with its kind's `fields`;
    returns them."""
    known = _ids(model, events)
    fresh = [e for e in events if (e.service, e.id) not in known]
    model.objects.bulk_create(
        [
            model(
                team=teams[e.team], service=e.service, external_id=e.id, source=source, **fields(e)
            )
            for e in fresh
        ],
        batch_size=_BATCH,
        ignore_conflicts=True,
    )
    return fresh


def _changes(
    events: list[Event], teams: dict[str, Team], source: DeliverySource | None, moved: set[int]
) -> int:
    fresh = _store(Change, events, teams, source, lambda e: {"committed_at": e.at})
    moved.update(_link_waiting_deployments(fresh))
    return len(fresh)


def _link_waiting_deployments(changes: list[Event]) -> set[int]:
    """Deployments that arrived before these changes: link them now. Returns their teams."""
    teams: set[int] = set()
    for start in range(0, len(changes), _BATCH):
        chunk = changes[start : start + _BATCH]
        waiting = list(
            DeploymentChange.objects.filter(
                change__isnull=True, change_ref__in={e.id for e in chunk}
            ).select_related("deployment")
        )
        if not waiting:
            continue
        ids = _ids(Change, chunk)
        for link in waiting:
            link.change_id = ids.get((link.deployment.service, link.change_ref))
        linked = [link for link in waiting if link.change_id]
        DeploymentChange.objects.bulk_update(linked, ["change"], batch_size=_BATCH)
        teams.update(link.deployment.team_id for link in linked)
    return teams


def _deployments(
    events: list[Event], teams: dict[str, Team], source: DeliverySource | None, moved: set[int]
) -> int:
    fresh = _store(Deployment, events, teams, source, lambda e: {"deployed_at": e.at})
    moved.update(teams[e.team].pk for e in fresh)
    deployments = _ids(Deployment, fresh)
    shipped = [(e, ref) for e in fresh for ref in e.changes]
    changes = _ids(
        Change,
        [Event("change", e.team, e.service, ref, e.at) for e, ref in shipped],
    )
    DeploymentChange.objects.bulk_create(
        [
            DeploymentChange(
                deployment_id=deployments[(e.service, e.id)],
                change_ref=ref,
                change_id=changes.get((e.service, ref)),
            )
            for e, ref in shipped
        ],
        batch_size=_BATCH,
        ignore_conflicts=True,
    )
    return len(fresh)


def _incidents(
    events: list[Event], teams: dict[str, Team], source: DeliverySource | None, moved: set[int]
) -> int:
    fresh = _store(
        Incident,
        events,
        teams,
        source,
        lambda e: {"opened_at": e.at, "restored_at": e.restored_at, "deployment_ref": e.deployment},
    )
    # An incident moves its own team's restore time and its cause's team's failure rate.
    moved.update(teams[e.team].pk for e in fresh)
    causes = [e for e in fresh if e.deployment]
    if causes:
        moved.update(
            Deployment.objects.filter(
                service__in={e.service for e in causes},
                external_id__in={e.deployment for e in causes},
            ).values_list("team_id", flat=True)
        )
    return len(fresh)


def _indicators(
    events: list[Event], teams: dict[str, Team], source: DeliverySource | None, moved: set[int]
) -> int:
    fresh = _store(
        Indicator,
        events,
        teams,
        source,
        # The value is never empty: the intake requires it.
        lambda e: {"name": e.indicator, "value": e.value or 0, "at": e.at},
    )
    moved.update(teams[e.team].pk for e in fresh)
    return len(fresh)
