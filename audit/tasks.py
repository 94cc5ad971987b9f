from __future__ import annotations

from typing import Any

from celery import shared_task

from audit.services import check_whole_chain


@shared_task(acks_late=True, reject_on_worker_lost=True)
def verify_audit_chain() -> dict[str, Any]:
    """Verify the whole audit chain in the background (e.g. nightly from celery beat) and
    keep the result; it writes a ChainCheck, never an event."""
    report = check_whole_chain()
    return {"ok": report.ok, "count": report.count, "message": report.message}
