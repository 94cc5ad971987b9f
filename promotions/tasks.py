"""Packet rendering on Celery workers. Tasks take ids, are idempotent, and survive a worker
crash: acks_late + reject_on_worker_lost put the message back, another worker takes it over
after the broker's visibility timeout (under a minute), and the stored packet is keyed by its
content, so a redelivered render stores nothing twice.

Every task finishes well inside the visibility timeout. A batch export of a whole cycle could
not, so it renders in slices: each run renders packets for at most `SLICE_SECONDS`, then queues
the next run; a crash loses at most one slice, and packets already stored are found again by
their content."""

from __future__ import annotations

import time

from celery import Task, shared_task
from django.conf import settings
from django.db import OperationalError

from promotions import exports
from promotions.models import ExportJob
from promotions.selectors import batch_cases

# Below the broker's visibility timeout, so a slow render is never redelivered while alive.
TIME_LIMIT = settings.LEVELSET_TASK_TIME_LIMIT
SOFT_TIME_LIMIT = settings.LEVELSET_TASK_SOFT_TIME_LIMIT
SLICE_SECONDS = SOFT_TIME_LIMIT / 2


def _fail_unless_retried(task: Task, job_id: str, exc: Exception, what: str) -> None:
    """A lost database connection is retried (the job stays running); anything else, or the
    last retry, fails the job with the reason."""
    if isinstance(exc, OperationalError) and task.request.retries < (task.max_retries or 0):
        return
    exports.job_fail(job_id, message=f"{what}: {exc}")


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=settings.LEVELSET_TASK_RETRY_MAX_WAIT,
    max_retries=5,
    time_limit=TIME_LIMIT,
    soft_time_limit=SOFT_TIME_LIMIT,
)
def export_packet(self: Task, job_id: str) -> str:
    job = ExportJob.objects.select_related("case__engineer__user").get(pk=job_id)
    if job.is_done and job.packet_id:
        return str(job.packet_id)
    exports.job_start(job_id, message="Rendering the packet…")
    try:
        assert job.case is not None
        packet = exports.packet_store(case=job.case)
    except Exception as exc:
        _fail_unless_retried(self, job_id, exc, "Rendering failed")
        raise
    exports.job_finish(job_id, message=f"Ready: {packet.pages} pages.", done=1, packet=packet)
    return str(packet.pk)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=settings.LEVELSET_TASK_RETRY_MAX_WAIT,
    max_retries=5,
    time_limit=TIME_LIMIT,
    soft_time_limit=SOFT_TIME_LIMIT,
)
def export_batch(self: Task, job_id: str, start: int = 0) -> str:
    """Render the packets from `start` on for at most `SLICE_SECONDS`, then queue the rest;
    the last slice writes the archive."""
    job = ExportJob.objects.select_related("cycle", "session").get(pk=job_id)
    if job.is_done and job.archive:
        return job.archive
    cases = list(batch_cases(cycle=job.cycle, session=job.session))
    if job.status == ExportJob.Status.QUEUED:
        exports.job_start(job_id, total=len(cases), message=f"Rendering {len(cases)} packets…")
    deadline = time.monotonic() + SLICE_SECONDS
    try:
        for index in range(start, len(cases)):
            if index > start and time.monotonic() > deadline:
                export_batch.delay(job_id, index)
                return f"continued after {index} of {len(cases)}"
            exports.packet_store(case=cases[index])
            exports.job_progress(
                job_id, done=index + 1, message=f"Rendered {index + 1} of {len(cases)} packets."
            )
        # Every packet is stored by now: this finds them (or renders a case changed meanwhile).
        packets = [(case, exports.packet_store(case=case)) for case in cases]
        path = exports.write_archive(packets, exports.archive_path(job))
    except Exception as exc:
        _fail_unless_retried(self, job_id, exc, "Export failed")
        raise
    exports.job_finish(
        job_id, message=f"Ready: {len(packets)} packets in one ZIP.", archive=str(path)
    )
    return str(path)
