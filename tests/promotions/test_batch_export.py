"""A batch export fans out: one task lists the cases and queues a render per case, each render
marks its case once and counts it, and the render that completes the count queues the archive.
Every task is safe to run twice, and a packet that cannot be rendered fails the export with a
message saying which packet and why. (Through real workers: test_batch_export_workers.py.)"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError
from django.test import Client

from config.celery import app as celery_app
from notify.models import Notification
from promotions import exports, notices, tasks
from promotions.models import ExportItem, ExportJob, PromotionCase, PromotionPacket
from promotions.services import export_batch_request
from tests.promotions.batch_data import build_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def queued_export(hr: Any, cases: list[PromotionCase], capture: Any) -> str:
    """A batch export requested and queued, its tasks not run: the test delivers them."""
    with capture(execute=False):
        job = export_batch_request(actor=hr, cycle=cases[0].cycle)
    return str(job.pk)


def progress(job_id: str) -> tuple[str, int, int]:
    job = ExportJob.objects.get(pk=job_id)
    return str(job.status), job.done, job.total


def test_task_limits_fit_inside_the_visibility_timeout() -> None:
    visibility = django_settings.CELERY_VISIBILITY_TIMEOUT
    sweep = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["unacked_restore_interval"]
    assert visibility + sweep <= 60  # a crashed export is taken over within a minute
    limit, soft = (
        django_settings.LEVELSET_TASK_TIME_LIMIT,
        django_settings.LEVELSET_TASK_SOFT_TIME_LIMIT,
    )
    assert soft < limit < visibility
    assert visibility > django_settings.LEVELSET_TASK_RETRY_MAX_WAIT
    for task in (
        tasks.export_packet,
        tasks.export_batch,
        tasks.export_batch_packet,
        tasks.export_batch_archive,
    ):
        assert task.time_limit == limit
        assert task.soft_time_limit == soft
        assert task.acks_late and task.reject_on_worker_lost
        assert task.autoretry_for == (OperationalError,)
        assert task.retry_backoff_max < visibility


def test_an_eager_batch_export_runs_one_render_per_case_then_writes_the_zip(
    published: Any,
    hr: Any,
    media: Path,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    cases = build_batch(published, hr, cases=3)
    ran: list[tuple[str, tuple[Any, ...]]] = []
    for task in (tasks.export_batch, tasks.export_batch_packet, tasks.export_batch_archive):

        def counting(*args: Any, _name: str = task.name, _run: Any = task.run) -> Any:
            ran.append((_name.rsplit(".", 1)[-1], args))
            return _run(*args)  # bound: `run` already carries the task

        monkeypatch.setattr(task, "run", counting)
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)  # as `make run` does
    with django_capture_on_commit_callbacks(execute=True):
        job = export_batch_request(actor=hr, cycle=cases[0].cycle)

    assert progress(str(job.pk)) == ("done", 3, 3)
    job = ExportJob.objects.get(pk=job.pk)
    assert job.message == "Ready: 3 packets in one ZIP."
    assert ran == [
        ("export_batch", (str(job.pk),)),
        *[("export_batch_packet", (str(job.pk), case.pk)) for case in cases],
        ("export_batch_archive", (str(job.pk),)),
    ]
    assert PromotionPacket.objects.count() == 3
    with zipfile.ZipFile(job.archive) as archive:
        assert archive.namelist() == [
            f"{case.engineer.user.get_username()}-{case.target_level}-{case.pk}.pdf"
            for case in cases
        ]
        assert all(archive.read(name)[:5] == b"%PDF-" for name in archive.namelist())


def test_redelivered_tasks_store_count_and_write_nothing_twice(
    published: Any, hr: Any, media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    cases = build_batch(published, hr, cases=2)
    job_id = queued_export(hr, cases, django_capture_on_commit_callbacks)
    page = Client()
    page.force_login(hr)

    # The fan-out, delivered twice, lists the cases once; each delivery queues the renders
    # still to do (here all of them), as one group.
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=False) as queued:
            assert tasks.export_batch(job_id) == "queued 2 of 2 packets"
        assert len(queued) == 1
    assert ExportItem.objects.filter(job__pk=job_id).count() == 2
    assert progress(job_id) == ("rendering", 0, 2)

    # Each render, delivered twice, stores one packet and counts once; only the render that
    # completes the count (and its redelivery) queues the archive.
    archive_queued = []
    for case in cases:
        for _ in range(2):
            with django_capture_on_commit_callbacks(execute=False) as queued:
                tasks.export_batch_packet(job_id, case.pk)
            archive_queued.append(len(queued))
        if case == cases[0]:
            assert progress(job_id) == ("rendering", 1, 2)
            row = page.get(f"/promotions/exports/{job_id}/").content.decode()
            assert 'value="1"' in row and "1 of 2" in row and "hx-get" in row
            assert page.get(f"/api/exports/{job_id}/").json()["done"] == 1
    assert archive_queued == [0, 0, 1, 1]
    assert progress(job_id) == ("rendering", 2, 2)
    assert ExportJob.objects.get(pk=job_id).message == "Writing the ZIP of 2 packets…"
    assert PromotionPacket.objects.count() == 2
    rendered = ExportItem.objects.filter(job__pk=job_id).values_list("packet_id", flat=True)
    assert set(rendered) == set(PromotionPacket.objects.values_list("pk", flat=True))

    # The archive, written twice, is one file, and whoever asked is told once.
    first = tasks.export_batch_archive(job_id)
    assert tasks.export_batch_archive(job_id) == first
    assert sorted(p.name for p in (media / "exports").iterdir()) == [f"{job_id}.zip"]
    assert progress(job_id) == ("done", 2, 2)
    assert Notification.objects.filter(kind=notices.PACKET_READY).count() == 1
    with zipfile.ZipFile(first) as archive:
        assert len(archive.namelist()) == 2

    # Delivered once more after the end, the fan-out and a render find the export done.
    assert tasks.export_batch(job_id) == "export done"
    assert tasks.export_batch_packet(job_id, cases[0].pk) == "export done"
    assert PromotionPacket.objects.count() == 2


def test_a_packet_that_cannot_be_stored_fails_the_export_with_the_reason(
    published: Any, hr: Any, media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    cases = build_batch(published, hr, cases=3)
    job_id = queued_export(hr, cases, django_capture_on_commit_callbacks)
    tasks.export_batch(job_id)
    tasks.export_batch_packet(job_id, cases[0].pk)
    # The packets' directory is taken by a file: the next packet renders but cannot be stored.
    shutil.rmtree(media / "packets")
    (media / "packets").write_text("not a directory")

    with pytest.raises(FileExistsError):
        tasks.export_batch_packet(job_id, cases[1].pk)

    assert progress(job_id) == ("failed", 1, 3)
    message = ExportJob.objects.get(pk=job_id).message
    assert message.startswith(
        "The packet for Batch Member01 (L3 → L4) could not be rendered: [Errno 17] File exists:"
    )
    assert message.endswith("Start the export again once that is fixed.")
    # Renders still queued find the export failed and render nothing; no archive is written.
    assert tasks.export_batch_packet(job_id, cases[2].pk) == "export failed"
    assert tasks.export_batch_archive(job_id) == "export failed, 1 of 3 packets"
    assert PromotionPacket.objects.count() == 1
    assert not (media / "exports").exists()
    assert not Notification.objects.filter(kind=notices.PACKET_READY).exists()


def test_a_lost_database_connection_while_counting_is_retried_and_counted_once(
    published: Any,
    hr: Any,
    media: Path,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    cases = build_batch(published, hr, cases=2)
    job_id = queued_export(hr, cases, django_capture_on_commit_callbacks)
    tasks.export_batch(job_id)
    calls = []
    counted = exports.batch_packet_rendered

    def lost_once(*args: Any, **kwargs: Any) -> bool:
        calls.append(args)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return counted(*args, **kwargs)

    monkeypatch.setattr(exports, "batch_packet_rendered", lost_once)
    # As a worker runs it: the retry is delivered again rather than raised to the caller.
    result = tasks.export_batch_packet.apply(args=[job_id, cases[0].pk], throw=False)

    assert result.successful(), result.traceback
    assert len(calls) == 2  # the retry rendered (found) the packet and counted it
    assert progress(job_id) == ("rendering", 1, 2)
    assert PromotionPacket.objects.count() == 1
