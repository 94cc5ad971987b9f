"""Drafts, publishing, second approval, retirement — each step audited."""

from __future__ import annotations

from typing import Any

import pytest

from audit.models import AuditEvent
from core.errors import Conflict, Forbidden, ValidationFailed
from rubrics.document import version_to_document
from rubrics.models import RubricVersion
from rubrics.selectors import with_content
from rubrics.services import (
    rubric_import,
    version_approve,
    version_create_draft,
    version_publish,
    version_retire,
    version_send_back,
    version_update,
)
from tests.conftest import ladder

Status = RubricVersion.Status


def actions() -> list[str]:
    return list(AuditEvent.objects.values_list("action", flat=True))


def content(version: RubricVersion) -> dict[str, Any]:
    document = version_to_document(with_content(RubricVersion.objects).get(pk=version.pk))
    document.pop("rationale")
    return document


def test_import_and_publish_is_audited(published: RubricVersion) -> None:
    assert published.status == Status.PUBLISHED
    assert published.number == 1
    assert actions() == [
        "rubrics.rubric.created",
        "rubrics.version.drafted",
        "rubrics.version.published",
    ]
    event = AuditEvent.objects.get(action="rubrics.version.published")
    assert event.payload["rationale"] == published.rationale
    assert event.actor_repr == "hr-harriet"


def test_new_version_is_a_draft_copy_of_the_latest(published: RubricVersion, hr: Any) -> None:
    draft = version_create_draft(actor=hr, rubric=published.rubric)
    assert (draft.number, draft.status) == (2, Status.DRAFT)
    assert content(draft) == content(published)
    assert draft.rationale == ""
    with pytest.raises(Conflict, match="already has an open draft"):
        version_create_draft(actor=hr, rubric=published.rubric)


def test_publish_needs_a_rationale(published: RubricVersion, hr: Any) -> None:
    draft = version_create_draft(actor=hr, rubric=published.rubric)
    with pytest.raises(ValidationFailed) as excinfo:
        version_publish(actor=hr, version=draft, rationale="  ")
    assert "rationale" in excinfo.value.errors
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_publishing_retires_the_previous_version(
    two_versions: tuple[RubricVersion, RubricVersion],
) -> None:
    v1, v2 = two_versions
    assert (v1.status, v2.status) == (Status.RETIRED, Status.PUBLISHED)
    assert v1.retired_at is not None
    published_event = AuditEvent.objects.filter(action="rubrics.version.published").last()
    assert published_event.payload["replaces"] == 1
    assert "Weight of Reliability changed from 20 to 25." in published_event.payload["changes"]
    assert "rubrics.version.retired" in actions()


def test_linter_problems_block_publishing_and_are_all_listed(
    published: RubricVersion, hr: Any
) -> None:
    draft = version_create_draft(actor=hr, rubric=published.rubric)
    document = ladder(1)
    document["dimensions"][0]["weight"] = 200
    document["dimensions"][1]["owner"] = ""
    del document["dimensions"][2]["criteria"]["L5"]
    version_update(actor=hr, version=draft, data=document)
    with pytest.raises(ValidationFailed) as excinfo:
        version_publish(actor=hr, version=draft, rationale="Rebalance")
    errors = excinfo.value.errors
    assert set(errors) == {
        "dimensions[0].weight",
        "dimensions[1].owner",
        "dimensions[2].criteria",
    }
    assert "3 problem(s)" in excinfo.value.message
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_second_approver_required_when_the_rubric_says_so(hr: Any, hr2: Any) -> None:
    document = {**ladder(1), "requires_second_approval": True}
    version = rubric_import(actor=hr, data=document, publish=True)
    assert version.status == Status.PENDING_APPROVAL
    with pytest.raises(Forbidden, match="second HR user"):
        version_approve(actor=hr, version=version)
    version = version_approve(actor=hr2, version=version)
    assert version.status == Status.PUBLISHED
    assert (version.published_by, version.approved_by) == (hr, hr2)
    assert actions()[-3:] == [
        "rubrics.version.submitted",
        "rubrics.version.approved",
        "rubrics.version.published",
    ]


def test_pending_version_is_frozen_and_can_be_sent_back(hr: Any, hr2: Any) -> None:
    version = rubric_import(
        actor=hr, data={**ladder(1), "requires_second_approval": True}, publish=True
    )
    with pytest.raises(Conflict):
        version_update(actor=hr, version=version, data=ladder(1))
    with pytest.raises(ValidationFailed):
        version_send_back(actor=hr2, version=version, reason="")
    version = version_send_back(actor=hr2, version=version, reason="Mentoring criteria too vague")
    assert version.status == Status.DRAFT
    assert actions()[-1] == "rubrics.version.sent_back"


def test_only_hr_changes_rubrics(published: RubricVersion, engineer: Any, manager: Any) -> None:
    for user in (engineer, manager):
        with pytest.raises(Forbidden):
            version_create_draft(actor=user, rubric=published.rubric)
        with pytest.raises(Forbidden):
            rubric_import(actor=user, data=ladder(2))
        with pytest.raises(Forbidden):
            version_retire(actor=user, version=published)


def test_retire(published: RubricVersion, hr: Any) -> None:
    version = version_retire(actor=hr, version=published)
    assert version.status == Status.RETIRED
    with pytest.raises(Conflict):
        version_retire(actor=hr, version=version)
