from __future__ import annotations

import datetime
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from people.models import Engineer, Team


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw")

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        if create and extracted:
            for role in extracted:
                self.groups.add(Group.objects.get_or_create(name=role)[0])


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")


class EngineerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Engineer

    user = factory.SubFactory(UserFactory, roles=["engineer"])
    team = factory.SubFactory(TeamFactory)
    level_code = "L4"
    start_date = datetime.date(2022, 1, 1)


def open_cycle(
    hr: Any, version: Any, *, name: str, self_review_ends: datetime.date, teams: Any = ()
) -> Any:
    """A cycle opened through the services: the self-review phase ends on `self_review_ends`,
    each later phase two weeks after the one before."""
    from reviews.services import cycle_create, cycle_open

    week = datetime.timedelta(days=7)
    cycle = cycle_create(
        actor=hr,
        name=name,
        rubric_version=version,
        self_review_ends=self_review_ends,
        manager_review_ends=self_review_ends + 2 * week,
        calibration_ends=self_review_ends + 4 * week,
        finalisation_ends=self_review_ends + 6 * week,
        teams=teams,
    )
    return cycle_open(actor=hr, cycle=cycle)
