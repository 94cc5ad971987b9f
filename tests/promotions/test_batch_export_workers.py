"""A batch export through real Celery workers against Redis: one render per packet, spread over
every worker there is, progress counting up as packets finish, and the ZIP written once all are
rendered."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from promotions.models import ExportJob
from promotions.services import export_batch_request
from tests.promotions.batch_data import build_batch
from tests.test_packet_worker import queue, start_packet_worker, wait_for  # noqa: F401
from tests.workers import stop_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PACKETS = 6


def test_a_batch_export_spreads_its_packets_over_two_workers(
    queue: str,  # the fixture imported above
    published: Any,
    hr: Any,
    settings: Any,
    tmp_path: Path,
) -> None:
    media = tmp_path / "media"
    settings.MEDIA_ROOT = media  # the test process reads what the workers write
    cases = build_batch(published, hr, cases=PACKETS)
    workers = [start_packet_worker(queue, media) for _ in range(2)]
    logs = sorted(tmp_path.glob("worker-*.log"))
    page = Client()
    page.force_login(hr)
    seen: list[int] = []

    def finished(job: ExportJob) -> bool:
        body = page.get(f"/api/exports/{job.pk}/").json()
        seen.append(body["done"])
        return body["status"] in ("done", "failed")

    try:
        # Both consume the queue before the export starts, so either may take any task.
        wait_for(lambda: all(" ready" in log.read_text() for log in logs), 60, "the workers")
        job = export_batch_request(actor=hr, cycle=cases[0].cycle)
        wait_for(lambda: finished(job), 120, "the batch export")
    finally:
        for worker in workers:
            stop_worker(worker)
        for log in logs:
            print(log.name, log.read_text()[-3000:])

    job = ExportJob.objects.get(pk=job.pk)
    assert job.status == "done", job.message
    assert (job.done, job.total) == (PACKETS, PACKETS)
    # Progress moved as packets finished: it never went back, and was seen part of the way.
    assert seen == sorted(seen) and seen[-1] == PACKETS
    assert any(0 < done < PACKETS for done in seen), seen
    # One render task per packet, and each worker ran some of them.
    renders = [
        log.read_text().count("promotions.tasks.export_batch_packet SUCCESS") for log in logs
    ]
    assert sum(renders) == PACKETS and all(renders), renders
    archives = [
        log.read_text().count("promotions.tasks.export_batch_archive SUCCESS") for log in logs
    ]
    assert sum(archives) == 1
    with zipfile.ZipFile(job.archive) as archive:
        names = archive.namelist()
    assert names == [f"{c.engineer.user.get_username()}-{c.target_level}-{c.pk}.pdf" for c in cases]
