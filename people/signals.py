"""What the organisation tells the apps above it. People changes happen here; apps above
`people` (reviews) follow them with their own services, inside the same transaction, so a
move and what follows from it are written together or not at all."""

from __future__ import annotations

from django.dispatch import Signal

# Sent with `transfers` (a list of people.models.Transfer rows just recorded) and `actor`.
engineers_moved = Signal()
