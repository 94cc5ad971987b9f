"""HR's rubric lifecycle in pages: import YAML, edit a draft with every linter problem beside
its field, see the changes against the live version, publish with a rationale, approve or send
back as a second HR user, retire. Anyone else finds no such page, and nothing changes."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from django.test import Client

from rubrics.models import RubricVersion
from rubrics.services import version_create_draft
from tests.conftest import ladder

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def field_errors(html: str, name: str) -> list[str]:
    """The error messages shown in the `p.field` that holds the control called `name`."""
    for block in re.findall(r'<p class="field[^"]*">(.*?)</p>', html, re.S):
        if f'name="{name}"' in block:
            return re.findall(r'<span class="error"[^>]*>(.*?)</span>', block)
    raise AssertionError(f"no field {name}")


def as_yaml(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def test_hr_imports_a_rubric_then_fixes_and_publishes_the_draft(hr: Any) -> None:
    page = signed_in(hr)
    broken = ladder(1)
    broken["dimensions"][1]["weight"] = "heavy"
    refused = page.post("/rubrics/import/", {"text": as_yaml(broken)})
    assert refused.status_code == 400
    assert "dimensions[1].weight" in refused.content.decode()
    assert not RubricVersion.objects.exists()

    document = ladder(1)
    document["dimensions"][0]["criteria"]["L3"] = "Commits at least 30 times per week."
    imported = page.post("/rubrics/import/", {"text": as_yaml(document)})
    draft = RubricVersion.objects.get()
    url = f"/rubrics/{draft.rubric.slug}/versions/{draft.number}/"
    assert imported.headers["Location"] == url and draft.status == "draft"

    # The linter's problem sits beside the criterion it is about, before publishing.
    html = page.get(url).content.decode()
    [problem] = field_errors(html, "d0-criteria-L3")
    assert "commit" in problem.lower()
    refused = page.post(f"{url}publish/", {"rationale": "The first ladder."})
    assert refused.status_code == 400 and RubricVersion.objects.get().status == "draft"

    form = dict(re.findall(r'name="(d\d+-[\w-]+|description)"[^>]*value="([^"]*)"', html))
    values = {name: value for name, value in form.items()}
    for i, dimension in enumerate(document["dimensions"]):
        for key in ("owner", "purpose", "limitations", "anti_gaming", "review_cadence"):
            values[f"d{i}-{key}"] = dimension[key]
        for code, text in dimension["criteria"].items():
            values[f"d{i}-criteria-{code}"] = text
    values["description"] = document["description"]
    values["d0-criteria-L3"] = "Ships small, reviewed changes that users notice."
    values["d1-weight"] = "0"
    saved = page.post(url, values)
    assert saved.status_code == 400
    assert field_errors(saved.content.decode(), "d1-weight") == [
        "Ensure this value is greater than or equal to 0.01."
    ]
    values["d1-weight"] = "25"
    assert page.post(url, values).status_code == 302
    assert page.post(f"{url}publish/", {"rationale": ""}).status_code == 400
    page.post(f"{url}publish/", {"rationale": "The first ladder, reviewed by the guild."})
    version = RubricVersion.objects.get()
    assert version.status == "published"
    weights = {d.key: d.weight for d in version.dimensions.all()}
    assert weights[document["dimensions"][1]["key"]] == 25


def test_a_second_hr_user_approves_or_sends_back(published: Any, hr: Any, hr2: Any) -> None:
    rubric = published.rubric
    rubric.requires_second_approval = True
    rubric.save(update_fields=["requires_second_approval"])
    draft = version_create_draft(actor=hr, rubric=rubric)
    url = f"/rubrics/{rubric.slug}/versions/{draft.number}/"
    signed_in(hr).post(f"{url}publish/", {"rationale": "Mentoring names sponsorship."})
    assert RubricVersion.objects.get(pk=draft.pk).status == "pending_approval"
    assert "Approve and publish" not in signed_in(hr).get(url).content.decode()

    second = signed_in(hr2)
    assert "Approve and publish" in second.get(url).content.decode()
    refused = second.post(f"{url}send-back/", {"reason": ""})
    assert refused.status_code == 400
    assert field_errors(refused.content.decode(), "reason") == ["Say why it goes back."]
    second.post(f"{url}send-back/", {"reason": "Say which calibration found this."})
    assert RubricVersion.objects.get(pk=draft.pk).status == "draft"
    signed_in(hr).post(f"{url}publish/", {"rationale": "Calibration in H1 found it."})
    second.post(f"{url}approve/")
    assert RubricVersion.objects.get(pk=draft.pk).status == "published"
    assert RubricVersion.objects.get(pk=published.pk).status == "retired"
    # The page before publishing showed what changes against the live version.
    assert "Every change, field by field" not in second.get(url).content.decode()


def test_hr_retires_the_live_version(published: Any, hr: Any) -> None:
    url = f"/rubrics/{published.rubric.slug}/versions/{published.number}/"
    signed_in(hr).post(f"{url}retire/")
    assert RubricVersion.objects.get(pk=published.pk).status == "retired"


def test_rubric_management_pages_are_hr_only(published: Any, engineer: Any) -> None:
    client = signed_in(engineer)
    slug, n = published.rubric.slug, published.number
    assert client.get("/rubrics/import/").status_code == 404
    assert client.post("/rubrics/import/", {"text": as_yaml(ladder(2))}).status_code == 404
    assert client.get(f"/rubrics/{slug}/versions/{n}/").status_code == 404
    for step in ("publish", "approve", "send-back", "retire"):
        answer = client.post(f"/rubrics/{slug}/versions/{n}/{step}/", {"rationale": "A reason."})
        assert answer.status_code == 404
    assert client.post(f"/rubrics/{slug}/draft/").status_code == 404
    assert RubricVersion.objects.count() == 1
    assert RubricVersion.objects.get().status == "published"
