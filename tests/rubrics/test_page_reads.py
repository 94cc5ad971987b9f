"""What the rubric pages read: a fixed number of queries, and released content read once per
process while a draft's is read afresh on every visit."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from rubrics import selectors
from rubrics.document import version_to_document
from rubrics.models import RubricVersion
from rubrics.services import version_create_draft, version_update


@pytest.fixture(autouse=True)
def cold_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts as a new process would: nothing about rubric content kept yet."""
    monkeypatch.setattr(selectors, "_MATRICES", {})
    monkeypatch.setattr(selectors, "_RELEASED_DOCUMENTS", {})
    monkeypatch.setattr(selectors, "_CONTENT", {})


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    # What any earlier request of the process has read already: the permission's content type.
    selectors.visible_versions_of(user, "backend-engineering")
    return client


def without_tokens(response: Any) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


def test_the_rubric_page_reads_released_content_once(
    two_versions: Any, engineer: Any, django_assert_num_queries: Any
) -> None:
    client = signed_in(engineer)
    # user, roles (the session from the cache), the visible versions (rubric, scale, who released
    # them), the shown version's levels, dimensions and criteria, the changelog's two versions'
    # levels, dimensions and criteria, the unread notifications
    with django_assert_num_queries(10):
        first = client.get("/rubrics/backend-engineering/")
    # Again: the released content is kept; only the versions and the navigation are read.
    with django_assert_num_queries(4):
        second = client.get("/rubrics/backend-engineering/")
    assert without_tokens(first) == without_tokens(second)
    assert "Weight of Reliability changed from 20 to 25." in second.content.decode()


def test_the_diff_page_reads_released_content_once(
    two_versions: Any, engineer: Any, django_assert_num_queries: Any
) -> None:
    client = signed_in(engineer)
    url = "/rubrics/backend-engineering/diff/?from=1&to=2"
    with django_assert_num_queries(7):  # user, roles, versions, 2 × 3 content, bell
        first = client.get(url)
    with django_assert_num_queries(4):
        second = client.get(url)
    assert without_tokens(first) == without_tokens(second)
    assert "Weight of Delivery changed from 25 to 20." in second.content.decode()


def test_a_draft_is_read_afresh_after_each_edit(published: RubricVersion, hr: Any) -> None:
    draft = version_create_draft(actor=hr, rubric=published.rubric)
    client = signed_in(hr)
    assert "Head of SRE" in client.get("/rubrics/backend-engineering/?version=2").content.decode()
    document = version_to_document(draft)
    document["dimensions"][0]["owner"] = "Principal of the platform"
    version_update(actor=hr, version=draft, data=document)
    page = client.get("/rubrics/backend-engineering/?version=2").content.decode()
    assert "Principal of the platform" in page
    diff = client.get("/rubrics/backend-engineering/diff/?from=1&to=2").content.decode()
    assert "Principal of the platform" in diff


def test_a_renamed_rubric_shows_its_new_name_in_kept_documents(
    two_versions: Any, engineer: Any
) -> None:
    old, new = two_versions
    documents = selectors.documents([old, new])
    new.rubric.name = "Backend engineering ladder"
    new.rubric.save()
    versions = selectors.visible_versions_of(engineer, "backend-engineering")
    assert [d["name"] for d in selectors.documents(versions)] == ["Backend engineering ladder"] * 2
    assert [{**d, "name": "x"} for d in selectors.documents(versions)] == [
        {**d, "name": "x"} for d in documents
    ]


def _content(version: RubricVersion) -> list[Any]:
    return [
        (d.key, d.weight, sorted((c.level.code, c.text) for c in d.criteria.all()))
        for d in version.dimensions.all()
    ] + [level.code for level in version.levels.all()]


def test_released_content_is_attached_from_the_process_copy(
    published: RubricVersion, django_assert_num_queries: Any
) -> None:
    expected = _content(selectors.with_content(RubricVersion.objects.filter(pk=published.pk)).get())
    first = RubricVersion.objects.get(pk=published.pk)
    with django_assert_num_queries(3):  # levels, dimensions, criteria (with their levels)
        selectors.attach_content(first)
    again = RubricVersion.objects.get(pk=published.pk)
    with django_assert_num_queries(0):
        selectors.attach_content(again)
        assert _content(again) == _content(first) == expected


def test_a_drafts_content_is_read_afresh_every_time(
    published: RubricVersion, hr: Any, django_assert_num_queries: Any
) -> None:
    draft = version_create_draft(actor=hr, rubric=published.rubric)
    for _ in range(2):
        version = RubricVersion.objects.get(pk=draft.pk)
        with django_assert_num_queries(3):
            selectors.attach_content(version)
