"""Register Levelset as a client of the test identity provider and add its people."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandParser
from oauth2_provider.models import get_application_model

from tests.oidc_provider.validators import UNVERIFIED_GROUP


class Command(BaseCommand):
    help = "Register the Levelset client and the provider's people."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--client-id", required=True)
        parser.add_argument("--client-secret", required=True)
        parser.add_argument("--redirect-uri", action="append", required=True)
        parser.add_argument(
            "--person",
            action="append",
            default=[],
            help="e-mail:password, or e-mail:password:unverified",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        Application = get_application_model()
        Application.objects.create(
            name="Levelset",
            client_id=options["client_id"],
            client_secret=options["client_secret"],  # stored hashed by DOT
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=" ".join(options["redirect_uri"]),
            skip_authorization=True,
            algorithm=Application.RS256_ALGORITHM,
        )
        unverified = Group.objects.create(name=UNVERIFIED_GROUP)
        for spec in options["person"]:
            email, password, *flags = spec.split(":")
            local = email.split("@")[0]
            first, _, last = local.partition(".")
            user = get_user_model().objects.create_user(
                username=email,
                email=email,
                password=password,
                first_name=first.title(),
                last_name=last.title(),
            )
            if "unverified" in flags:
                user.groups.add(unverified)
