"""Packet rendering on Celery workers. Tasks take ids, are idempotent, and survive a worker
crash: acks_late + reject_on_worker_lost put the message back, and the stored packet is keyed
by its content, so a redelivered render stores nothing twice."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from promotions import exports
from promotions.models import ExportJob
from promotions.selectors import batch_cases

# Below the broker's visibility timeout, so a slow render is never redelivered while alive.
TIME_LIMIT = settings.LEVELSET_PACKET_TIME_LIMIT


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    time_limit=TIME_LIMIT,
    soft_time_limit=TIME_LIMIT - 10,
)
def export_packet(job_id: str) -> str:
    job = ExportJob.objects.select_related("case__engineer__user").get(pk=job_id)
    if job.is_done and job.packet_id:
        return str(job.packet_id)
    exports.job_start(job_id, message="Rendering the packet…")
    try:
        assert job.case is not None
        packet = exports.packet_store(case=job.case)
    except Exception as exc:
        exports.job_fail(job_id, message=f"Rendering failed: {exc}")
        raise
    exports.job_finish(job_id, message=f"Ready: {packet.pages} pages.", done=1, packet=packet)
    return str(packet.pk)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    time_limit=TIME_LIMIT,
    soft_time_limit=TIME_LIMIT - 10,
)
def export_batch(job_id: str) -> str:
    job = ExportJob.objects.select_related("cycle", "session").get(pk=job_id)
    if job.is_done and job.archive:
        return job.archive
    cases = list(batch_cases(cycle=job.cycle, session=job.session))
    exports.job_start(job_id, total=len(cases), message=f"Rendering {len(cases)} packets…")
    try:
        packets = []
        for done, case in enumerate(cases, start=1):
            packets.append((case, exports.packet_store(case=case)))
            exports.job_progress(
                job_id, done=done, message=f"Rendered {done} of {len(cases)} packets."
            )
        path = exports.write_archive(packets, exports.archive_path(job))
    except Exception as exc:
        exports.job_fail(job_id, message=f"Export failed: {exc}")
        raise
    exports.job_finish(
        job_id, message=f"Ready: {len(packets)} packets in one ZIP.", archive=str(path)
    )
    return str(path)
