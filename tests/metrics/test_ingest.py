"""Storing delivery events: HR or a source's token, an event sent again changes nothing, a
deployment's changes are linked whichever arrives first, an unknown team refuses the batch."""

from __future__ import annotations

from typing import Any

import pytest

from audit.models import AuditEvent
from core.errors import Conflict, Forbidden, ValidationFailed
from metrics.models import Change, Deployment, DeploymentChange, Incident
from metrics.services import source_create, source_revoke
from people.models import Team
from tests.metrics.conftest import at, change, deployment, incident, send


def stored() -> dict[str, list[tuple[Any, ...]]]:
    return {
        "changes": list(
            Change.objects.order_by("external_id").values_list(
                "external_id", "committed_at", "team__slug"
            )
        ),
        "deployments": list(
            Deployment.objects.order_by("external_id").values_list("external_id", "deployed_at")
        ),
        "links": sorted(
            DeploymentChange.objects.values_list(
                "deployment__external_id", "change_ref", "change__external_id"
            )
        ),
        "incidents": list(
            Incident.objects.order_by("external_id").values_list(
                "external_id", "restored_at", "deployment_ref"
            )
        ),
    }


def test_events_are_stored_once_and_sending_again_changes_nothing(hr: Any, payments: Team) -> None:
    batch = [
        change("c1", 2),
        change("c2", 2, 5),
        deployment("d1", 3, 0, ["c1", "c2"]),
        incident("i1", at(3, 1), at(3, 2), "d1"),
    ]
    done = send(hr, *batch)
    assert (done.received, done.new, done.known) == (4, 4, 0)
    before = stored()
    assert before["links"] == [("d1", "c1", "c1"), ("d1", "c2", "c2")]
    # Sent again, even with other fields: nothing changes, and the answer says so.
    again = send(hr, {**batch[0], "at": at(9)}, batch[2], {**batch[3], "restored_at": at(9)})
    assert (again.received, again.new, again.known) == (3, 0, 3)
    assert stored() == before
    # Twice in one batch: once.
    assert send(hr, change("c3", 4), change("c3", 4)).new == 1


def test_a_deployment_before_its_changes_is_linked_when_they_arrive(
    hr: Any, payments: Team
) -> None:
    send(hr, deployment("d1", 3, 0, ["c1", "c2"]))
    assert stored()["links"] == [("d1", "c1", None), ("d1", "c2", None)]
    send(hr, change("c1", 2))
    send(hr, change("c2", 2, service="web"))  # another service's c2 is another change
    assert stored()["links"] == [("d1", "c1", "c1"), ("d1", "c2", None)]


def test_an_unknown_team_refuses_the_whole_batch(hr: Any, payments: Team) -> None:
    with pytest.raises(ValidationFailed) as caught:
        send(hr, change("c1", 2), change("c2", 2, team="Nowhere"))
    assert caught.value.errors == {"[1].team": ["no team is named 'Nowhere'"]}
    assert not Change.objects.exists()
    # A team is named by its slug or by its name.
    assert send(hr, change("c1", 2, team="Payments"), change("c2", 2, team="payments")).new == 2


def test_only_hr_and_sources_send_events(
    hr: Any, manager: Any, engineer: Any, payments: Team
) -> None:
    for who in (manager, engineer):
        with pytest.raises(Forbidden):
            send(who, change("c1", 2))
    source, token = source_create(actor=hr, name="ci")
    assert len(token) >= 40 and source.token_digest != token
    done = send(hr, change("c1", 2), source=source)
    assert done.new == 1 and Change.objects.get().source == source
    source_revoke(actor=hr, source=source)
    with pytest.raises(Forbidden, match="revoked"):
        send(hr, change("c2", 2), source=source)
    with pytest.raises(Conflict):
        source_revoke(actor=hr, source=source)
    with pytest.raises(ValidationFailed, match="exists"):
        source_create(actor=hr, name="CI")
    with pytest.raises(Forbidden):
        source_create(actor=manager, name="other")


def test_every_batch_and_source_change_is_audited(hr: Any, payments: Team) -> None:
    source, _ = source_create(actor=hr, name="pager")
    send(hr, change("c1", 2), deployment("d1", 3, 0, ["c1"]), source=source)
    send(hr, change("c1", 2))
    source_revoke(actor=hr, source=source)
    rows = list(AuditEvent.objects.order_by("seq").values_list("action", "payload"))[-4:]
    assert [action for action, _ in rows] == [
        "metrics.source.created",
        "metrics.events.ingested",
        "metrics.events.ingested",
        "metrics.source.revoked",
    ]
    assert rows[1][1] == {"source": "pager", "received": 2, "new": 2, "change": 1, "deployment": 1}
    assert rows[2][1] == {"source": "", "received": 1, "new": 0, "change": 1}
