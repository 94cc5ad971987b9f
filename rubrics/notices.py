"""Notification kinds the rubric services send. Both ask a person to act: a second HR user
approves (or sends back) a version, and its author revises a version sent back."""

from __future__ import annotations

from notify.registry import kind

VERSION_AWAITING_APPROVAL = kind(
    "rubrics.version.awaiting_approval",
    "A rubric version is waiting for a second HR approval",
    essential=True,
)
VERSION_SENT_BACK = kind(
    "rubrics.version.sent_back", "A rubric version you submitted was sent back", essential=True
)
