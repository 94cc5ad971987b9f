"""Notification kinds the calibration services send.

Essential kinds ask a person to act (take part in a session, work its open board, resolve
an appeal) or answer their own appeal. A session locking or closing is news to its
participants that asks nothing of them, so they may switch it off.
"""

from __future__ import annotations

from notify.registry import kind

SESSION_INVITED = kind(
    "calibration.session.invited", "You were invited to a calibration session", essential=True
)
SESSION_OPENED = kind(
    "calibration.session.opened", "A calibration session you take part in opened", essential=True
)
SESSION_LOCKED = kind("calibration.session.locked", "A calibration session you take part in locked")
SESSION_CLOSED = kind("calibration.session.closed", "A calibration session you take part in closed")
APPEAL_OPENED = kind("calibration.appeal.opened", "An engineer appealed a rating", essential=True)
APPEAL_RESOLVED = kind("calibration.appeal.resolved", "Your appeal was decided", essential=True)
