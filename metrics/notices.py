"""Notification kinds the metrics services send."""

from __future__ import annotations

from notify.registry import kind

GOVERNANCE_OVERDUE = kind(
    "metrics.governance.overdue",
    "A metric you own is overdue its governance review",
    essential=True,
)
