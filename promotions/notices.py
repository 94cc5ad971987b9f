"""Notification kinds the promotion services send.

Essential kinds ask a person to act (decide a case on their committee) or answer their own
nomination (the committee decided). A case shared with its engineer and a finished packet
export are news the person can also find on the page, so they may switch them off.
"""

from __future__ import annotations

from notify.registry import kind

CASE_SUBMITTED = kind(
    "promotions.case.submitted", "A promotion case is waiting for your committee", essential=True
)
CASE_DECIDED = kind(
    "promotions.case.decided", "A promotion case you nominated was decided", essential=True
)
CASE_SHARED = kind("promotions.case.shared", "Your promotion case was shared with you")
PACKET_READY = kind("promotions.packet.ready", "A packet export you asked for is ready")
