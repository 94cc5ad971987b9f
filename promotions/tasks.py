"""Packet rendering on Celery workers. Tasks take ids, are idempotent, and survive a worker
crash: acks_late + reject_on_worker_lost put the message back, and the stored packet is keyed
by its content, so a redelivered render stores nothing twice."""

from __future__ import annotations

from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from promotions.models import ExportJob
from promotions.services import batch_cases, packet_store, write_archive

# Below the broker's visibility timeout, so a slow render is never redelivered while alive.
TIME_LIMIT = settings.LEVELSET_PACKET_TIME_LIMIT


def _update(job_id: str, **fields: object) -> None:
    ExportJob.objects.filter(pk=job_id).update(**fields)


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
    if job.status == ExportJob.Status.DONE and job.packet_id:
        return str(job.packet_id)
    _update(job_id, status=ExportJob.Status.RENDERING, message="Rendering the packet…")
    try:
        assert job.case is not None
        packet = packet_store(case=job.case)
    except Exception as exc:
        _update(job_id, status=ExportJob.Status.FAILED, message=f"Rendering failed: {exc}")
        raise
    _update(
        job_id,
        status=ExportJob.Status.DONE,
        done=1,
        packet=packet,
        message=f"Ready: {packet.pages} pages.",
    )
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
    if job.status == ExportJob.Status.DONE and job.archive:
        return job.archive
    cases = list(batch_cases(cycle=job.cycle, session=job.session))
    _update(
        job_id,
        status=ExportJob.Status.RENDERING,
        total=len(cases),
        done=0,
        message=f"Rendering {len(cases)} packets…",
    )
    try:
        packets = []
        for done, case in enumerate(cases, start=1):
            packets.append((case, packet_store(case=case)))
            _update(job_id, done=done, message=f"Rendered {done} of {len(cases)} packets.")
        path = write_archive(packets, Path(settings.MEDIA_ROOT) / "exports" / f"{job_id}.zip")
    except Exception as exc:
        _update(job_id, status=ExportJob.Status.FAILED, message=f"Export failed: {exc}")
        raise
    _update(
        job_id,
        status=ExportJob.Status.DONE,
        archive=str(path),
        message=f"Ready: {len(packets)} packets in one ZIP.",
    )
    return str(path)
