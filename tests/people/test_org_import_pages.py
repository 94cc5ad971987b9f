"""The organisation import through the API and HR's page: check, then apply what was checked."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from people.models import Engineer
from tests.conftest import client_for
from tests.people.test_org_import import ORG, _csv


@pytest.fixture
def hr_client(hr: Any) -> Client:
    client = Client()
    client.force_login(hr)
    return client


@pytest.mark.django_db
def test_api_dry_run_then_apply(hr: Any) -> None:
    api = client_for(hr)
    dry = api.post(
        "/api/people/import/",
        {"file": SimpleUploadedFile("org.csv", ORG.encode()), "dry_run": "true"},
        format="multipart",
    )
    assert dry.status_code == 200, dry.json()
    body = dry.json()
    assert body["applied"] is False and body["counts"]["joiner"] == 3
    assert body["changes"][0] == {
        "kind": "joiner",
        "line": 2,
        "email": "ana@acme.test",
        "name": "Ana Lima",
        "before": "",
        "after": "Payments",
    }
    assert not Engineer.objects.exists()
    applied = api.post("/api/people/import/", {"content": ORG, "format": "csv"}, format="json")
    assert applied.status_code == 200 and applied.json()["applied"] is True
    assert Engineer.objects.count() == 3
    again = api.post("/api/people/import/", {"content": ORG}, format="json")
    assert again.json()["applied"] is False and again.json()["unchanged"] == 3


@pytest.mark.django_db
def test_api_problems_are_a_400_naming_line_and_column(hr: Any) -> None:
    bad = _csv("ana@acme.test,Ana Lima,,Payments,,L4,2021-02-30,true")
    response = client_for(hr).post("/api/people/import/", {"content": bad}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["errors"] == {"line 2.start_date": ["must be a date like 2024-03-01"]}
    assert "nothing was written" in body["message"]
    assert not Engineer.objects.exists()


@pytest.mark.django_db
def test_api_refuses_both_or_neither_input(hr: Any) -> None:
    response = client_for(hr).post("/api/people/import/", {"dry_run": True}, format="json")
    assert response.status_code == 400 and "file" in response.json()["errors"]


@pytest.mark.django_db
def test_page_checks_shows_the_diff_and_applies(hr_client: Client) -> None:
    page = hr_client.post(
        "/people/import/", {"file": SimpleUploadedFile("org.csv", ORG.encode()), "check": ""}
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "Joiners (3)" in html and "Ana Lima &lt;ana@acme.test&gt;" in html
    assert "Apply these changes" in html
    assert not Engineer.objects.exists()
    # The checked content travels with the apply form: no second upload.
    content = page.context["form"].initial["content"]
    applied = hr_client.post(
        "/people/import/", {"content": content, "format": "csv", "apply": ""}, follow=True
    )
    assert "Organisation imported: 3 joiner" in applied.content.decode()
    assert Engineer.objects.count() == 3
    again = hr_client.post("/people/import/", {"content": content, "format": "csv", "check": ""})
    assert "Nothing to change" in again.content.decode()
    assert "Apply these changes" not in again.content.decode()


@pytest.mark.django_db
def test_page_shows_problems_beside_the_file_field(hr_client: Client) -> None:
    bad = _csv("ana@acme.test,Ana Lima,,Payments,nobody@acme.test,L4,2021-03-01,true")
    page = hr_client.post("/people/import/", {"file": SimpleUploadedFile("org.csv", bad.encode())})
    assert page.status_code == 400
    html = page.content.decode()
    assert "The file has 1 problem(s)" in html
    assert "nobody@acme.test is neither in the file nor in Levelset" in html
    empty = hr_client.post("/people/import/", {})
    assert empty.status_code == 400 and "Choose the file to import." in empty.content.decode()


@pytest.mark.django_db
def test_json_upload_is_read_as_json(hr_client: Client) -> None:
    data = (
        b'[{"email": "a@acme.test", "name": "A B", "team": "T", "level": "L3",'
        b' "start_date": "2020-01-01"}]'
    )
    page = hr_client.post("/people/import/", {"file": SimpleUploadedFile("org.json", data)})
    assert page.status_code == 200 and "Joiners (1)" in page.content.decode()


@pytest.mark.django_db
def test_the_export_imports_back_with_nothing_to_change(hr: Any, hr_client: Client) -> None:
    from people.services import org_import

    org_import(actor=hr, data=ORG, fmt="csv")
    exported = hr_client.get("/people/organisation.csv")
    assert exported.status_code == 200 and exported["Content-Type"].startswith("text/csv")
    text = exported.content.decode()
    assert (
        text.splitlines()[0] == "email,name,employee_id,team,manager_email,level,start_date,active"
    )
    assert "ana@acme.test,Ana Lima,E1,Payments,mo@acme.test,L4,2021-03-01,true" in text
    plan = org_import(actor=hr, data=text, fmt="csv", dry_run=True)
    assert plan.ok and plan.changes == [] and plan.unchanged == 3


@pytest.mark.django_db
def test_only_hr_exports(engineer: Any) -> None:
    client = Client()
    client.force_login(engineer)
    assert client.get("/people/organisation.csv").status_code == 404
