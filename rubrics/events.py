"""Audit action codes written by the rubric services."""

from audit.registry import action

RUBRIC_CREATED = action("rubrics.rubric.created", "created the rubric")
RUBRIC_CHANGED = action("rubrics.rubric.changed", "changed the rubric's settings")
VERSION_DRAFTED = action("rubrics.version.drafted", "started a new draft version")
VERSION_EDITED = action("rubrics.version.edited", "edited a draft version")
VERSION_ACCESS_GRANTED = action("rubrics.version.access_granted", "invited readers to a draft")
VERSION_SUBMITTED = action(
    "rubrics.version.submitted", "submitted a version for a second HR approver"
)
VERSION_APPROVED = action("rubrics.version.approved", "approved a version")
VERSION_SENT_BACK = action("rubrics.version.sent_back", "sent a version back to draft")
VERSION_PUBLISHED = action("rubrics.version.published", "published a version")
VERSION_RETIRED = action("rubrics.version.retired", "retired a version")
