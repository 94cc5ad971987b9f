"""A team HR creates shows at once wherever teams are listed from the read cache."""

from __future__ import annotations

import pytest

from core import readcache
from people import services
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_creating_a_team_moves_the_organisation_wide_generation() -> None:
    hr = UserFactory(username="hana", roles=["hr"])
    before = readcache.generation()
    services.team_create(actor=hr, slug="payments", name="Payments")
    assert readcache.generation() > before
