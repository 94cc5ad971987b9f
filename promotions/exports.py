"""Rendered packets and archives, and the progress of their export jobs: what the workers do.

A packet is rendered by a Celery worker and stored once per distinct content (keyed by the
SHA-256 of its HTML), so a redelivered render stores nothing twice; files are written to a
temporary name and renamed, so a crash never leaves half a PDF behind.
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
from django.urls import reverse

from notify import services as notify
from promotions import notices
from promotions.models import ExportJob, PromotionCase, PromotionPacket
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


def job_start(job_id: str, *, total: int | None = None, message: str) -> ExportJob:
    """A worker starts (or, redelivered, restarts) rendering."""
    with transaction.atomic():
        job = _locked_job(job_id)
        job.start()
        job.message = message
        fields = ["status", "message", "updated_at"]
        if total is not None:
            job.total, job.done = total, 0
            fields += ["total", "done"]
        job.save(update_fields=fields)
    return job


def job_progress(job_id: str, *, done: int, message: str) -> None:
    # Progress only: no state changes, so a plain update keeps it to one short statement.
    ExportJob.objects.filter(pk=job_id).update(done=done, message=message)


def job_finish(job_id: str, *, message: str, **result: Any) -> ExportJob:
    with transaction.atomic():
        job = _locked_job(job_id)
        job.finish()
        job.message = message
        for field, value in result.items():
            setattr(job, field, value)
        job.save(update_fields=["status", "message", "updated_at", *result])
        _tell_ready(job)
    return job


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
