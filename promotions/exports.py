"""Rendered packets and archives, and the progress of their export jobs: what the workers do.

A packet is rendered by a Celery worker and stored once per distinct content (keyed by the
SHA-256 of its HTML), so a redelivered render stores nothing twice; files are written to a
temporary name and renamed, so a crash never leaves half a PDF behind.

A batch export lists its cases as items when it starts; each case's packet is rendered by its
own task, on whichever worker is free, and marked rendered once. The mark and the job's count
move together in one transaction, so a redelivered task counts nothing twice, and the task
whose mark completes the count (or its redelivery) has the archive written.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from notify import services as notify
from promotions import notices
from promotions.models import ExportItem, ExportJob, PromotionCase, PromotionPacket
from promotions.packets import render_packet_html, render_packet_pdf


def packets_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "packets"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file and rename: a crash never leaves half a PDF behind."""
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as handle:
        handle.write(data)
        temporary = handle.name
    os.replace(temporary, path)


def packet_store(*, case: PromotionCase) -> PromotionPacket:
    """Render the case's packet and store it once per distinct content (idempotent)."""
    html = render_packet_html(case)
    content_hash = hashlib.sha256(html.encode()).hexdigest()
    existing = PromotionPacket.objects.filter(case=case, content_hash=content_hash).first()
    if existing is not None:
        return existing
    pdf, pages = render_packet_pdf(
        html, title=f"Promotion packet — {case.engineer}", author=str(case.nominated_by)
    )
    sha256 = hashlib.sha256(pdf).hexdigest()
    path = packets_dir() / f"{sha256}.pdf"
    _write_atomically(path, pdf)
    try:
        with transaction.atomic():
            return PromotionPacket.objects.create(
                case=case,
                content_hash=content_hash,
                sha256=sha256,
                path=str(path),
                pages=pages,
                size=len(pdf),
            )
    except IntegrityError:
        # Another worker stored the same content first (e.g. a redelivered task): keep theirs.
        return PromotionPacket.objects.get(case=case, content_hash=content_hash)


def write_archive(packets: list[tuple[PromotionCase, PromotionPacket]], path: Path) -> Path:
    """A ZIP of packets, one PDF per case, named after the engineer."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".zip") as handle:
        with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
            for case, packet in packets:
                name = f"{case.engineer.user.get_username()}-{case.target_level}-{case.pk}.pdf"
                archive.write(packet.path, arcname=name)
        temporary = handle.name
    os.replace(temporary, path)
    return path


def archive_path(job: ExportJob) -> Path:
    return Path(settings.MEDIA_ROOT) / "exports" / f"{job.pk}.zip"


def _locked_job(job_id: str) -> ExportJob:
    return ExportJob.objects.select_for_update().get(pk=job_id)


def job_start(job_id: str, *, message: str) -> ExportJob:
    """A worker starts (or, redelivered, restarts) rendering."""
    with transaction.atomic():
        job = _locked_job(job_id)
        job.start()
        job.message = message
        job.save(update_fields=["status", "message", "updated_at"])
    return job


def job_finish(job_id: str, *, message: str, **result: Any) -> ExportJob:
    """The job is done, with its packet or archive; whoever asked is told. A job finishes once:
    a redelivered task that finishes it again changes nothing and tells nobody."""
    with transaction.atomic():
        job = _locked_job(job_id)
        if not job.is_running:
            return job
        job.finish()
        job.message = message
        for field, value in result.items():
            setattr(job, field, value)
        job.save(update_fields=["status", "message", "updated_at", *result])
        _tell_ready(job)
    return job


def batch_start(job_id: str, *, case_ids: list[int]) -> list[int]:
    """A worker starts a batch export: the cases become its items, the count starts at 0.
    Returns the cases whose packets are still to render: all of them the first time; on a
    redelivery, those not yet rendered (the items and the count stay as they are)."""
    with transaction.atomic():
        job = _locked_job(job_id)
        if not job.is_running:
            return []
        if not job.items.exists():
            ExportItem.objects.bulk_create(ExportItem(job=job, case_id=pk) for pk in case_ids)
            job.total, job.done = len(case_ids), 0
            job.message = f"Rendering {len(case_ids)} packets…"
        job.start()
        job.save(update_fields=["status", "message", "total", "done", "updated_at"])
        return list(job.items.pending().order_by("pk").values_list("case_id", flat=True))


def batch_item(job_id: str, case_id: int) -> ExportItem:
    return ExportItem.objects.select_related("case__engineer__user").get(
        job__pk=job_id, case_id=case_id
    )


def batch_packet_rendered(job_id: str, *, case_id: int, packet: PromotionPacket) -> bool:
    """Mark a case of a batch rendered and count it, once however often it is marked.
    True when every packet of a running batch is rendered: time to write the archive."""
    with transaction.atomic():
        marked = (
            ExportItem.objects.pending()
            .filter(job__pk=job_id, case_id=case_id)
            .update(packet=packet, rendered_at=timezone.now())
        )
        if marked:
            # F(): workers count at once; the row lock this update takes orders them, so the
            # count read back below is this mark's own.
            ExportJob.objects.filter(pk=job_id).update(
                done=F("done") + 1, updated_at=timezone.now()
            )
        job = ExportJob.objects.only("status", "done", "total").get(pk=job_id)
        if marked and job.all_rendered and job.is_running:
            ExportJob.objects.filter(pk=job_id).update(
                message=f"Writing the ZIP of {job.total} packets…"
            )
        return job.is_running and job.all_rendered


def batch_archive(job: ExportJob) -> tuple[Path, int]:
    """Write the batch's archive from its stored packets (a packet deleted meanwhile is
    rendered again). The archive is named after the job, so writing it twice leaves one."""
    packets = [
        (item.case, item.packet or packet_store(case=item.case))
        for item in job.items.in_archive_order()
    ]
    return write_archive(packets, archive_path(job)), len(packets)


def _tell_ready(job: ExportJob) -> None:
    """Tell whoever asked for the export that it is ready. A job finishes once, and its id is
    in the key, so a redelivered task tells nobody twice."""
    if job.case_id is not None:
        case = PromotionCase.objects.select_related("engineer__user").get(pk=job.case_id)
        engineer = case.engineer.user.get_full_name() or case.engineer.user.get_username()
        title = f"The promotion packet for {engineer} is ready"
        url, action = reverse("promotions:case", args=[case.pk]), "Download the packet"
    else:
        title = f"Your export of {job.total} promotion packet(s) is ready"
        url, action = reverse("promotions:exports"), "Download the ZIP"
    notify.tell(
        kind=notices.PACKET_READY,
        recipients=[job.requested_by_id] if job.requested_by_id else [],
        key=f"export:{job.pk}:ready",
        title=title,
        body=f"The export you asked for finished. {job.message} Download it from its page.",
        url=url,
        action=action,
    )


def job_fail(job_id: str, *, message: str) -> None:
    with transaction.atomic():
        job = _locked_job(job_id)
        if job.is_running:
            job.fail()
            job.message = message
            job.save(update_fields=["status", "message", "updated_at"])
