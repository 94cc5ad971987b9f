"""Audit action codes written by the promotion services."""

from audit.registry import action

CASE_NOMINATED = action("promotions.case.nominated", "nominated an engineer for promotion")
CASE_EDITED = action("promotions.case.edited", "edited a promotion case")
CASE_SUBMITTED = action("promotions.case.submitted", "submitted a promotion case")
CASE_DECIDED = action("promotions.case.decided", "decided a promotion case")
CASE_SHARED = action("promotions.case.shared", "shared a promotion case with the engineer")
PACKET_REQUESTED = action("promotions.packet.requested", "asked for a promotion packet")
PACKET_BATCH_REQUESTED = action(
    "promotions.packet.batch_requested", "asked for every promotion packet of a cycle or session"
)
PACKET_DOWNLOADED = action("promotions.packet.downloaded", "downloaded a promotion packet")

# Written while promotions lived in calibration; kept so old events read well.
LEGACY = tuple(
    action(f"calibration.{old}", new.sentence)
    for old, new in (
        ("promotion.nominated", CASE_NOMINATED),
        ("promotion.edited", CASE_EDITED),
        ("promotion.submitted", CASE_SUBMITTED),
        ("promotion.decided", CASE_DECIDED),
        ("promotion.shared", CASE_SHARED),
        ("packet.requested", PACKET_REQUESTED),
        ("packet.batch_requested", PACKET_BATCH_REQUESTED),
        ("packet.downloaded", PACKET_DOWNLOADED),
    )
)
