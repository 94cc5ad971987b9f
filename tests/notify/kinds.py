"""Notification kinds the tests send (production kinds are declared by their apps)."""

from notify.registry import kind

NEWS = kind("tests.news", "Something happened that you may like to know")
DIGEST = kind("tests.digest", "A summary you may like to read")
WAITING = kind("tests.waiting", "Work is waiting for you", essential=True)
