"""A published version, and everything in it, refuses every write path."""

from __future__ import annotations

from typing import Any

import pytest

from rubrics.models import (
    Criterion,
    Dimension,
    Level,
    RatingScale,
    RubricVersion,
    RubricVersionFrozen,
)


def test_version_fields_cannot_be_saved(published: RubricVersion) -> None:
    published.rationale = "rewritten history"
    with pytest.raises(RubricVersionFrozen):
        published.save()
    with pytest.raises(RubricVersionFrozen):
        published.save(update_fields=["rationale"])


def test_version_cannot_be_deleted(published: RubricVersion) -> None:
    with pytest.raises(RubricVersionFrozen):
        published.delete()
    with pytest.raises(RubricVersionFrozen):
        RubricVersion.objects.filter(pk=published.pk).delete()


def test_version_queryset_update_refused(published: RubricVersion) -> None:
    with pytest.raises(RubricVersionFrozen):
        RubricVersion.objects.filter(pk=published.pk).update(rationale="x")
    published.refresh_from_db()
    assert published.rationale.startswith("First version")


@pytest.mark.parametrize(
    ("model", "lookup", "changes"),
    [
        (Dimension, "version", {"weight": 99}),
        (Level, "version", {"name": "Renamed"}),
        (RatingScale, "version", {"max_rating": 7}),
        (Criterion, "dimension__version", {"text": "Rewritten"}),
    ],
)
def test_children_refuse_save_update_and_delete(
    published: RubricVersion, model: Any, lookup: str, changes: dict[str, Any]
) -> None:
    rows = model.objects.filter(**{lookup: published})
    obj = rows.first()
    for field, value in changes.items():
        setattr(obj, field, value)
    with pytest.raises(RubricVersionFrozen):
        obj.save()
    with pytest.raises(RubricVersionFrozen):
        obj.delete()
    with pytest.raises(RubricVersionFrozen):
        rows.update(**changes)
    with pytest.raises(RubricVersionFrozen):
        rows.delete()
    with pytest.raises(RubricVersionFrozen):
        model.objects.bulk_update([obj], list(changes))
    assert model.objects.filter(**{lookup: published}).count() == rows.count() > 0


def test_no_content_can_be_added(published: RubricVersion) -> None:
    with pytest.raises(RubricVersionFrozen):
        Level.objects.create(version=published, order=9, code="L9", name="Extra")
    with pytest.raises(RubricVersionFrozen):
        Level.objects.bulk_create([Level(version=published, order=9, code="L9", name="Extra")])


def test_drafts_remain_editable(published: RubricVersion, hr: Any) -> None:
    from rubrics.services import version_create_draft

    draft = version_create_draft(actor=hr, rubric=published.rubric)
    updated = Dimension.objects.filter(version=draft, key="delivery").update(weight=30)
    assert updated == 1
    assert Dimension.objects.get(version=published, key="delivery").weight == 25
