"""Packet rendering on Celery workers. Tasks take ids, are idempotent, and survive a worker
crash: acks_late + reject_on_worker_lost put the message back, another worker takes it over
after the broker's visibility timeout (under a minute), and the stored packet is keyed by its
content, so a redelivered render stores nothing twice.

A batch export fans out, so every free worker renders its packets at once: `export_batch`
lists the cases and queues one `export_batch_packet` per case (a group); each renders one
packet, marks its case rendered and counts it (exports.batch_packet_rendered), and the task
whose mark completes the count queues `export_batch_archive`, which writes the ZIP from the
stored packets. No task waits for another (nothing needs a result backend), and each does a
bounded piece of work that finishes well inside the visibility timeout, however large the
batch."""

from __future__ import annotations

from typing import Any

from celery import Task, group, shared_task
from django.db import OperationalError, transaction

from core.tasks import durable
from promotions import exports
from promotions.models import ExportJob
from promotions.selectors import batch_cases

TASK_OPTIONS: dict[str, Any] = {"bind": True, **durable()}


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


def _fail_unless_retried(task: Task, job_id: str, exc: Exception, message: str) -> None:
    """A lost database connection is retried (the job stays running); anything else, or the
    last retry, fails the job with the message."""
    if isinstance(exc, OperationalError) and task.request.retries < (task.max_retries or 0):
        return
    exports.job_fail(job_id, message=message)


@shared_task(**TASK_OPTIONS)
def export_packet(self: Task, job_id: str) -> str:
    job = ExportJob.objects.select_related("case__engineer__user").get(pk=job_id)
    if job.is_done and job.packet_id:
        return str(job.packet_id)
    exports.job_start(job_id, message="Rendering the packet…")
    try:
        assert job.case is not None
        packet = exports.packet_store(case=job.case)
    except Exception as exc:
        _fail_unless_retried(self, job_id, exc, f"Rendering failed: {_reason(exc)}")
        raise
    exports.job_finish(job_id, message=f"Ready: {packet.pages} pages.", done=1, packet=packet)
    return str(packet.pk)


def _write_archive_on_commit(job_id: str) -> None:
    transaction.on_commit(lambda: export_batch_archive.delay(job_id))


@shared_task(**TASK_OPTIONS)
def export_batch(self: Task, job_id: str, start: int = 0) -> str:
    """Queue one render per case of the batch. (`start` is ignored: a slice of the batch
    queued before the batch fanned out starts the whole batch.)"""
    job = ExportJob.objects.select_related("cycle", "session").get(pk=job_id)
    if not job.is_running:
        return f"export {job.status}"
    try:
        cases = batch_cases(cycle=job.cycle, session=job.session)
        pending = exports.batch_start(job_id, case_ids=[case.pk for case in cases])
    except Exception as exc:
        _fail_unless_retried(self, job_id, exc, f"The export could not start: {_reason(exc)}")
        raise
    if pending:
        renders = group(export_batch_packet.si(job_id, case_id) for case_id in pending)
        transaction.on_commit(renders.apply_async)
    else:
        # Redelivered after every packet was rendered (or a batch of none): only the archive
        # is left, and writing it again leaves one.
        job.refresh_from_db(fields=["status", "done", "total"])
        if job.is_running and job.all_rendered:
            _write_archive_on_commit(job_id)
    return f"queued {len(pending)} of {job.total} packets"


@shared_task(**TASK_OPTIONS)
def export_batch_packet(self: Task, job_id: str, case_id: int) -> str:
    """Render one packet of a batch export; the render that completes the batch queues the
    archive."""
    job = ExportJob.objects.get(pk=job_id)
    if not job.is_running:
        return f"export {job.status}"  # failed or finished: nothing left to render
    item = exports.batch_item(job_id, case_id)
    try:
        if item.rendered_at is None:
            packet = exports.packet_store(case=item.case)
            complete = exports.batch_packet_rendered(job_id, case_id=case_id, packet=packet)
        else:
            complete = job.all_rendered  # redelivered: counted already, nothing to store
    except Exception as exc:
        user = item.case.engineer.user
        _fail_unless_retried(
            self,
            job_id,
            exc,
            f"The packet for {user.get_full_name() or user.get_username()}"
            f" ({item.case.current_level} → {item.case.target_level}) could not be rendered:"
            f" {_reason(exc)}. Start the export again once that is fixed.",
        )
        raise
    if complete:
        _write_archive_on_commit(job_id)
    return f"rendered case {case_id}"


@shared_task(**TASK_OPTIONS)
def export_batch_archive(self: Task, job_id: str) -> str:
    """Write the ZIP of a batch export's stored packets and finish the job."""
    job = ExportJob.objects.get(pk=job_id)
    if job.is_done and job.archive:
        return job.archive
    if not (job.is_running and job.all_rendered):
        return f"export {job.status}, {job.done} of {job.total} packets"
    try:
        path, count = exports.batch_archive(job)
        exports.job_finish(job_id, message=f"Ready: {count} packets in one ZIP.", archive=str(path))
    except Exception as exc:
        _fail_unless_retried(self, job_id, exc, f"Writing the ZIP failed: {_reason(exc)}")
        raise
    return str(path)
