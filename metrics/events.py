"""Audit action codes written by the metrics services."""

from audit.registry import action

SOURCE_CREATED = action("metrics.source.created", "registered a delivery event source")
SOURCE_REVOKED = action("metrics.source.revoked", "revoked a delivery event source")
EVENTS_INGESTED = action("metrics.events.ingested", "sent delivery events")
METRIC_GOVERNED = action("metrics.governance.created", "set out how a metric is governed")
GOVERNANCE_REVIEW_RECORDED = action("metrics.governance.reviewed", "recorded a governance review")
GOVERNANCE_REVIEW_SIGNED = action("metrics.governance.signed", "signed off a governance review")
METRIC_RETIRED = action("metrics.governance.retired", "retired a metric")
