"""Audit action codes written by the metrics services."""

from audit.registry import action

SOURCE_CREATED = action("metrics.source.created", "registered a delivery event source")
SOURCE_REVOKED = action("metrics.source.revoked", "revoked a delivery event source")
EVENTS_INGESTED = action("metrics.events.ingested", "sent delivery events")
