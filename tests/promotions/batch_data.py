"""A cycle with several promotion cases, for batch exports: Ada's full case (from packet_data)
and more of the same manager's reports nominated beside her."""

from __future__ import annotations

from typing import Any

from promotions.models import PromotionCase
from promotions.services import case_nominate
from tests.factories import EngineerFactory, UserFactory
from tests.promotions.packet_data import build_case


def build_batch(published: Any, hr: Any, *, cases: int) -> list[PromotionCase]:
    """`cases` cases in one cycle, ordered as a batch export orders them (by last name)."""
    first, manager = build_case(published, hr, evidence=3)
    for n in range(cases - 1):
        user = UserFactory(
            username=f"batch{n}", first_name="Batch", last_name=f"Member{n:02}", roles=["engineer"]
        )
        engineer: Any = EngineerFactory(
            user=user, team=first.engineer.team, manager=manager, level_code="L3"
        )
        case_nominate(
            actor=manager,
            engineer=engineer,
            cycle=first.cycle,
            target_level="L4",
            summary=f"Batch member {n} **operates at L4** on delivery.",
        )
    return list(
        PromotionCase.objects.filter(cycle=first.cycle)
        .select_related("engineer__user", "cycle")
        .order_by("engineer__user__last_name", "pk")
    )
