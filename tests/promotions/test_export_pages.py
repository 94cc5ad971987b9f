"""HR exports every packet of a cycle from a page: the job's row shows its progress (and
polls while it runs), then the ZIP to download. Anyone else finds no such page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from config.celery import app as celery_app
from promotions.models import ExportJob
from tests.promotions.packet_data import build_case

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_hr_exports_a_cycles_packets_and_watches_the_progress(
    published: Any,
    hr: Any,
    settings: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    case, manager = build_case(published, hr, evidence=2)
    page = signed_in(hr)
    refused = page.post("/promotions/exports/", {})
    assert refused.status_code == 400
    assert "Choose a cycle or a session" in refused.content.decode()
    assert not ExportJob.objects.exists()

    # Queued only: the row says so and polls for news.
    with django_capture_on_commit_callbacks(execute=False):
        page.post("/promotions/exports/", {"cycle": case.cycle.pk})
    job = ExportJob.objects.get()
    listed = page.get("/promotions/exports/").content.decode()
    assert f'hx-get="/promotions/exports/{job.id}/"' in listed
    assert 'value="0"' in listed and "Queued" in listed

    # Rendered: the row stops polling and offers the ZIP.
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    with django_capture_on_commit_callbacks(execute=True):
        page.post("/promotions/exports/", {"cycle": case.cycle.pk})
    done = ExportJob.objects.exclude(pk=job.pk).get()
    assert done.status == "done", done.message
    row = page.get(f"/promotions/exports/{done.id}/").content.decode()
    assert "hx-get" not in row and f"/api/exports/{done.id}/archive.zip" in row
    assert "1 of 1" in row

    for person in (manager, case.engineer.user):
        assert signed_in(person).get("/promotions/exports/").status_code == 404
        assert signed_in(person).post("/promotions/exports/", {"cycle": 1}).status_code == 404
        assert signed_in(person).get(f"/promotions/exports/{done.id}/").status_code == 404
