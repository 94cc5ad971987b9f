"""An audit action code the tests write (production codes are declared by their apps)."""

from audit.registry import action

TEST_EVENT = action("test.event", "did something in a test")
