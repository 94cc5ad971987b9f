"""Packet exports through real Celery workers against Redis: progress, idempotence, and a
worker killed in the middle of a render losing nothing, duplicating nothing, and taken over
by another worker within a minute with the settings production runs (no test overrides)."""

from __future__ import annotations

import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from config.celery import app as celery_app
from promotions.models import ExportJob, PromotionPacket
from tests.promotions.packet_data import build_case
from tests.workers import private_queue, start_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def queue() -> Iterator[str]:
    name = private_queue()
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = name
    yield name
    celery_app.conf.task_default_queue = previous


def start_packet_worker(queue: str, media: Path) -> subprocess.Popen[str]:
    media.parent.mkdir(parents=True, exist_ok=True)
    log = (media.parent / f"worker-{uuid.uuid4().hex[:6]}.log").open("w")  # kept for debugging
    return start_worker(
        queue, env={"LEVELSET_VAR_DIR": str(media.parent)}, output=log, loglevel="INFO"
    )


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def status(job: ExportJob) -> str:
    return str(ExportJob.objects.get(pk=job.pk).status)


def test_export_survives_a_killed_worker_and_stores_one_packet(
    queue: str, published: Any, hr: Any, settings: Any, tmp_path: Path
) -> None:
    from promotions.services import export_request

    media = tmp_path / "media"
    settings.MEDIA_ROOT = media  # the test process reads what the workers write
    case, manager = build_case(published, hr, evidence=30)
    first = start_packet_worker(queue, media)
    second: subprocess.Popen[str] | None = None
    try:
        job = export_request(actor=manager, case=case)
        wait_for(lambda: status(job) == "rendering", 60, "the render to start")
        first.send_signal(signal.SIGKILL)  # mid-render: no ack was sent
        first.wait(10)
        killed_at = timezone.now()
        assert status(job) == "rendering"
        second = start_packet_worker(queue, media)
        # Taken over: the second worker restarts the render (job_start touches the job).
        wait_for(
            lambda: ExportJob.objects.get(pk=job.pk).updated_at > killed_at,
            60,
            "another worker to take the render over within a minute",
        )
        wait_for(lambda: status(job) in ("done", "failed"), 60, "the redelivered render")
        assert status(job) == "done", ExportJob.objects.get(pk=job.pk).message
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.terminate()
                worker.wait(20)
        for log in sorted(tmp_path.glob("worker-*.log")):
            print(log.name, log.read_text()[-3000:])
    packets = PromotionPacket.objects.filter(case=case)
    assert packets.count() == 1
    packet = packets.get()
    assert Path(packet.path).read_bytes()[:5] == b"%PDF-"
    assert ExportJob.objects.get(pk=job.pk).packet_id == packet.pk


def test_exporting_twice_stores_one_packet(
    queue: str, published: Any, hr: Any, settings: Any, tmp_path: Path
) -> None:
    from promotions.services import export_request

    media = tmp_path / "media"
    settings.MEDIA_ROOT = media
    case, manager = build_case(published, hr, evidence=5)
    worker = start_packet_worker(queue, media)
    try:
        jobs = [export_request(actor=manager, case=case) for _ in range(2)]
        for job in jobs:
            wait_for(lambda job=job: status(job) == "done", 90, "the export")
    finally:
        worker.terminate()
        worker.wait(20)
    assert PromotionPacket.objects.filter(case=case).count() == 1
    assert len({ExportJob.objects.get(pk=j.pk).packet_id for j in jobs}) == 1
