"""Audit action codes written by the notification services."""

from audit.registry import action

PREFERENCES_CHANGED = action(
    "notify.preferences.changed", "switched kinds of notification on or off for themselves"
)
