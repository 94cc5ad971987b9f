"""A released version's content is read once per process; a draft's is read every time."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from rubrics.document import version_to_document
from rubrics.models import RubricVersion
from rubrics.selectors import version_data
from rubrics.services import version_create_draft, version_update


def queries(version: RubricVersion) -> int:
    with CaptureQueriesContext(connection) as ctx:
        version_data(version)
    return len(ctx.captured_queries)


def test_a_released_version_is_loaded_once(published: Any) -> None:
    data = version_data(published)
    assert data.rubric == published.rubric.slug and data.number == published.number
    assert [d.key for d in data.dimensions] == [
        d.key for d in published.dimensions.order_by("order")
    ]
    level = published.levels.get(code="L5")
    criterion = level.criteria.select_related("dimension").first()
    assert data.criteria[(criterion.dimension.key, "L5")] == criterion.text
    assert queries(published) == 0


def test_a_draft_is_read_afresh_so_edits_show(published: Any, hr: Any) -> None:
    draft = version_create_draft(actor=hr, rubric=published.rubric)
    assert queries(draft) > 0 and queries(draft) > 0
    document = version_to_document(draft)
    document["dimensions"][0]["weight"] = "31"
    draft = version_update(actor=hr, version=draft, data=document)
    key = document["dimensions"][0]["key"]
    weights = {d.key: d.weight for d in version_data(draft).dimensions}
    assert weights[key] == 31
