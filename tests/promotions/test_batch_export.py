"""A batch export renders in slices that each fit inside the broker's visibility timeout, so a
crashed worker loses one slice at most and no slice is ever handed out twice while alive."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings

from config.celery import app as celery_app
from promotions import tasks
from promotions.models import ExportJob, PromotionPacket
from promotions.services import case_nominate, export_batch_request
from tests.promotions.packet_data import build_case

pytestmark = pytest.mark.django_db


def test_task_limits_fit_inside_the_visibility_timeout() -> None:
    visibility = django_settings.CELERY_VISIBILITY_TIMEOUT
    sweep = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["unacked_restore_interval"]
    assert visibility + sweep <= 60  # a crashed export is taken over within a minute
    assert tasks.SLICE_SECONDS < tasks.SOFT_TIME_LIMIT < tasks.TIME_LIMIT < visibility
    assert visibility > django_settings.LEVELSET_TASK_RETRY_MAX_WAIT
    for task in (tasks.export_packet, tasks.export_batch):
        assert task.time_limit == tasks.TIME_LIMIT
        assert task.retry_backoff_max < visibility


def test_a_batch_export_continues_slice_by_slice_and_stores_each_packet_once(
    published: Any,
    hr: Any,
    settings: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    case, manager = build_case(published, hr, evidence=3)
    peer = case.cycle.reviews.get(engineer__user__username="ben").engineer
    case_nominate(actor=manager, engineer=peer, cycle=case.cycle, target_level="L4", summary="Ben.")

    slices: list[str] = []
    original = tasks.export_batch.run

    def counting(job_id: str, start: int = 0) -> str:
        result = original(job_id, start)  # bound: `run` already carries the task
        slices.append(result)
        return result

    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)  # in this process
    monkeypatch.setattr(tasks, "SLICE_SECONDS", 0.0)  # one packet per slice
    monkeypatch.setattr(tasks.export_batch, "run", counting)
    with django_capture_on_commit_callbacks(execute=True):
        job = export_batch_request(actor=hr, cycle=case.cycle)

    job = ExportJob.objects.get(pk=job.pk)
    assert job.status == "done", job.message
    assert (job.done, job.total) == (2, 2)
    # The first slice renders one packet and queues the second, which writes the archive.
    # (Eager tasks run inside one another: the innermost finishes first.)
    assert slices == [job.archive, "continued after 1 of 2"]
    assert PromotionPacket.objects.count() == 2
    with zipfile.ZipFile(job.archive) as archive:
        assert len(archive.namelist()) == 2
