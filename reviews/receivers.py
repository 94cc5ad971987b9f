"""How reviews follow the organisation: people's signals, answered by reviews' services (the
rule lives in the service; this only routes)."""

from __future__ import annotations

from typing import Any

from people.signals import engineers_moved
from reviews import services


def _follow_transfers(sender: Any, *, transfers: list[Any], actor: Any, **kwargs: Any) -> None:
    services.reviews_follow_transfers(actor=actor, transfers=transfers)


def connect() -> None:
    engineers_moved.connect(_follow_transfers, dispatch_uid="reviews-follow-transfers")
