"""Write paths for rubrics. Each runs in one transaction and writes the audit log.

`actor` is the signed-in user, or the system user for a trusted operator at the command line
(`import_rubric`), which is recorded as "system".
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm

from audit import services as audit
from core import workflow
from core.actors import User
from core.errors import Conflict, Forbidden, ValidationFailed
from core.roles import Role, people_with_roles
from notify import services as notify
from rubrics import events, notices
from rubrics.diff import diff_documents
from rubrics.document import parse_document, version_to_document
from rubrics.linter import lint_document, lint_warnings
from rubrics.models import Criterion, Dimension, Level, RatingScale, Rubric, RubricVersion
from rubrics.permissions import VIEW_DRAFT_PERMISSION, can_manage_rubrics
from rubrics.selectors import with_content

Status = RubricVersion.Status


def _name(user: Any) -> str:
    return str(user.get_full_name() or user.get_username())


def _version_url(version: RubricVersion) -> str:
    return reverse("rubrics:version", args=[version.rubric.slug, version.number])


def _require_manager(actor: User) -> None:
    if not can_manage_rubrics(actor):
        raise Forbidden("Only HR can change rubrics.")


def _locked(version: RubricVersion) -> RubricVersion:
    locked = with_content(RubricVersion.objects.select_for_update(of=("self",))).get(pk=version.pk)
    return locked


def _write_content(version: RubricVersion, document: dict[str, Any]) -> None:
    """Replace a draft's content with a validated document."""
    version.levels.all().delete()
    version.dimensions.all().delete()
    RatingScale.objects.filter(version=version).delete()

    scale = document["scale"]
    RatingScale.objects.create(
        version=version,
        min_rating=scale["min"],
        max_rating=scale["max"],
        anchors={str(k): v for k, v in scale.get("anchors", {}).items()},
    )
    levels = Level.objects.bulk_create(
        Level(version=version, order=index, code=level["code"], name=level["name"])
        for index, level in enumerate(document["levels"])
    )
    by_code = {level.code: level for level in levels}
    dimensions = Dimension.objects.bulk_create(
        Dimension(
            version=version,
            order=index,
            key=d["key"],
            name=d["name"],
            weight=d["weight"],
            gate_below=(d.get("gate") or {}).get("below"),
            gate_cap=(d.get("gate") or {}).get("cap"),
            owner=d["owner"],
            purpose=d["purpose"],
            limitations=d["limitations"],
            anti_gaming=d["anti_gaming"],
            review_cadence=d["review_cadence"],
        )
        for index, d in enumerate(document["dimensions"])
    )
    Criterion.objects.bulk_create(
        Criterion(dimension=dimension, level=by_code[code], text=text)
        for dimension, d in zip(dimensions, document["dimensions"], strict=True)
        for code, text in d["criteria"].items()
        if text.strip()
    )
    version.description = document["description"]
    version.rationale = document["rationale"]
    version.save(update_fields=["description", "rationale"])


def _next_number(rubric: Rubric) -> int:
    latest = rubric.versions.order_by("-number").values_list("number", flat=True).first()
    return (latest or 0) + 1


def rubric_import(*, actor: User, data: Any, publish: bool = False) -> RubricVersion:
    """Create or update a rubric from a document: a new draft (or the open draft, rewritten).

    With `publish`, the draft is published in the same transaction; any problem, in the file or
    from the linter, leaves nothing written.
    """
    _require_manager(actor)
    document = parse_document(data)
    with transaction.atomic():
        rubric, created = Rubric.objects.select_for_update().get_or_create(
            slug=document["rubric"],
            defaults={
                "name": document["name"],
                "requires_second_approval": document["requires_second_approval"],
            },
        )
        if created:
            audit.record(
                actor=actor,
                action=events.RUBRIC_CREATED,
                target=rubric,
                payload={"slug": rubric.slug, "name": rubric.name},
            )
        elif (rubric.name, rubric.requires_second_approval) != (
            document["name"],
            document["requires_second_approval"],
        ):
            before = {
                "name": rubric.name,
                "requires_second_approval": rubric.requires_second_approval,
            }
            rubric.name = document["name"]
            rubric.requires_second_approval = document["requires_second_approval"]
            rubric.save(update_fields=["name", "requires_second_approval"])
            audit.record(
                actor=actor,
                action=events.RUBRIC_CHANGED,
                target=rubric,
                payload={
                    "before": before,
                    "after": {
                        "name": rubric.name,
                        "requires_second_approval": rubric.requires_second_approval,
                    },
                },
            )
        draft = rubric.versions.filter(status=Status.DRAFT).first()
        if rubric.versions.filter(status=Status.PENDING_APPROVAL).exists():
            raise Conflict(
                f"{rubric} has a version awaiting approval; approve or send it back first."
            )
        if draft is None:
            draft = RubricVersion.objects.create(
                rubric=rubric, number=_next_number(rubric), created_by=actor
            )
            action = events.VERSION_DRAFTED
        else:
            action = events.VERSION_EDITED
        _write_content(draft, document)
        audit.record(
            actor=actor,
            action=action,
            target=draft,
            payload={"rubric": rubric.slug, "number": draft.number, "source": "document"},
        )
        if publish:
            draft = version_publish(actor=actor, version=draft, rationale=document["rationale"])
    return draft


def version_create_draft(*, actor: User, rubric: Rubric) -> RubricVersion:
    """Start the next version as a draft copy of the latest one."""
    _require_manager(actor)
    with transaction.atomic():
        rubric = Rubric.objects.select_for_update().get(pk=rubric.pk)
        if rubric.versions.filter(status__in=[Status.DRAFT, Status.PENDING_APPROVAL]).exists():
            raise Conflict(f"{rubric} already has an open draft; edit or publish that one.")
        latest = with_content(rubric.versions.order_by("-number")).first()
        draft = RubricVersion.objects.create(
            rubric=rubric, number=_next_number(rubric), created_by=actor
        )
        if latest is not None:
            document = version_to_document(latest)
            document["rationale"] = ""
            _write_content(draft, parse_document(document))
        audit.record(
            actor=actor,
            action=events.VERSION_DRAFTED,
            target=draft,
            payload={
                "rubric": rubric.slug,
                "number": draft.number,
                "copied_from": latest.number if latest else None,
            },
        )
    return draft


def version_update(*, actor: User, version: RubricVersion, data: Any) -> RubricVersion:
    """Replace a draft's content with a document (same schema as the YAML files)."""
    _require_manager(actor)
    document = parse_document(data)
    if document["rubric"] != version.rubric.slug:
        raise ValidationFailed(
            f"This document is for rubric {document['rubric']!r}, not {version.rubric.slug!r}.",
            errors={"rubric": [f"must be {version.rubric.slug!r}"]},
        )
    with transaction.atomic():
        version = _locked(version)
        workflow.require(version, "edit", actor)
        before = version_to_document(version)
        _write_content(version, document)
        version = with_content(RubricVersion.objects.all()).get(pk=version.pk)
        changes = diff_documents(before, version_to_document(version))
        audit.record(
            actor=actor,
            action=events.VERSION_EDITED,
            target=version,
            payload={
                "rubric": version.rubric.slug,
                "number": version.number,
                "changes": changes["summary"],
            },
        )
    return version


def version_lint(*, version: RubricVersion) -> list[dict[str, str]]:
    problems = lint_document(
        version_to_document(version), max_share=settings.LEVELSET_MAX_DIMENSION_SHARE
    )
    return [{"path": p.path, "message": p.message} for p in problems]


def version_lint_warnings(*, version: RubricVersion) -> list[dict[str, str]]:
    """The linter's advice, which does not stop a version from being published."""
    return [
        {"path": p.path, "message": p.message} for p in lint_warnings(version_to_document(version))
    ]


def version_publish(*, actor: User, version: RubricVersion, rationale: str) -> RubricVersion:
    """Publish a draft after the linter passes; a rubric that needs it waits for a 2nd HR user."""
    _require_manager(actor)
    rationale = (rationale or "").strip()
    with transaction.atomic():
        version = _locked(version)
        workflow.require(version, "edit", actor)  # publishing starts from a draft
        errors: dict[str, list[str]] = {}
        if not rationale:
            errors["rationale"] = ["Say why this version exists: publishing needs a rationale."]
        for problem in version_lint(version=version):
            errors.setdefault(problem["path"], []).append(problem["message"])
        if errors:
            raise ValidationFailed(
                f"{version} cannot be published: {sum(len(m) for m in errors.values())} "
                "problem(s) to fix first.",
                errors=errors,
            )
        version.rationale = rationale
        version.submitted_by = actor
        version.save(update_fields=["rationale", "submitted_by"])
        if version.rubric.requires_second_approval:
            version.submit_for_approval()
            version.save(update_fields=["status"])
            event = audit.record(
                actor=actor,
                action=events.VERSION_SUBMITTED,
                target=version,
                payload={
                    "rubric": version.rubric.slug,
                    "number": version.number,
                    "rationale": rationale,
                },
            )
            # Any other HR user may approve; the one who submitted it may not.
            hr = people_with_roles(Role.HR).order_by().values_list("pk", flat=True)
            # A version sent back and submitted again is news again: the event is in the key.
            notify.tell(
                kind=notices.VERSION_AWAITING_APPROVAL,
                recipients=hr,
                not_to=actor,
                key=f"rubric_version:{version.pk}:submitted:{event.pk}",
                title=f"{version} waits for your approval",
                body=(
                    f"{_name(actor)} submitted {version} for publication; the rubric needs a "
                    f"second HR approval. Their rationale:\n\n{rationale}\n\nRead the "
                    "version and its changes, then approve it or send it back with a reason."
                ),
                url=_version_url(version),
                action="Review the version",
            )
            return version
        return _go_live(actor=actor, version=version, approver=None)


def version_approve(*, actor: User, version: RubricVersion) -> RubricVersion:
    """A second HR user approves a version awaiting approval, which makes it live."""
    _require_manager(actor)
    with transaction.atomic():
        version = _locked(version)
        workflow.require(version, "approve", actor)
        return _go_live(actor=actor, version=version, approver=actor)


def version_send_back(*, actor: User, version: RubricVersion, reason: str) -> RubricVersion:
    """An approver returns a version to draft, with a reason."""
    _require_manager(actor)
    if not (reason or "").strip():
        raise ValidationFailed("Say why it goes back.", errors={"reason": ["is required"]})
    with transaction.atomic():
        version = _locked(version)
        workflow.require(version, "send_back", actor)
        version.send_back()
        version.save(update_fields=["status"])
        event = audit.record(
            actor=actor,
            action=events.VERSION_SENT_BACK,
            target=version,
            payload={"rubric": version.rubric.slug, "number": version.number, "reason": reason},
        )
        author = version.submitted_by_id or version.created_by_id
        notify.tell(
            kind=notices.VERSION_SENT_BACK,
            recipients=[author],
            not_to=actor,
            key=f"rubric_version:{version.pk}:sent_back:{event.pk}",
            title=f"{version} was sent back to draft",
            body=(
                f"{_name(actor)} sent {version} back to draft instead of approving it:\n\n"
                f"{reason.strip()}\n\nRevise the draft, then publish it again."
            ),
            url=_version_url(version),
            action="Open the draft",
        )
    return version


def version_retire(*, actor: User, version: RubricVersion) -> RubricVersion:
    _require_manager(actor)
    with transaction.atomic():
        version = _locked(version)
        workflow.require(version, "retire", actor)
        _retire(actor, version)
    return version


def version_grant_draft_access(*, actor: User, version: RubricVersion, user: Any) -> None:
    """Let one person (e.g. a dimension owner) read a draft before it is published."""
    _require_manager(actor)
    with transaction.atomic():
        assign_perm(VIEW_DRAFT_PERMISSION, user, version)
        audit.record(
            actor=actor,
            action=events.VERSION_ACCESS_GRANTED,
            target=version,
            payload={"user": user.get_username()},
        )


def _retire(actor: User, version: RubricVersion) -> None:
    version.retire()
    version.retired_at = timezone.now()
    version.save(update_fields=["status", "retired_at"])
    audit.record(
        actor=actor,
        action=events.VERSION_RETIRED,
        target=version,
        payload={"rubric": version.rubric.slug, "number": version.number},
    )


def _go_live(*, actor: User, version: RubricVersion, approver: Any) -> RubricVersion:
    previous = (
        with_content(RubricVersion.objects.select_for_update(of=("self",)))
        .filter(rubric=version.rubric, status=Status.PUBLISHED)
        .first()
    )
    changes: list[str] = []
    if previous is not None:
        changes = diff_documents(version_to_document(previous), version_to_document(version))[
            "summary"
        ]
        _retire(actor, previous)
    if approver is not None:
        audit.record(
            actor=actor,
            action=events.VERSION_APPROVED,
            target=version,
            payload={"rubric": version.rubric.slug, "number": version.number},
        )
    version.publish()
    version.published_at = timezone.now()
    version.published_by = version.submitted_by
    version.approved_by = approver
    version.save(update_fields=["status", "published_at", "published_by", "approved_by"])
    audit.record(
        actor=actor,
        action=events.VERSION_PUBLISHED,
        target=version,
        payload={
            "rubric": version.rubric.slug,
            "number": version.number,
            "rationale": version.rationale,
            "replaces": previous.number if previous else None,
            "changes": changes,
        },
    )
    return version
