from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rubrics.document import dump_yaml, version_to_document
from rubrics.models import RubricVersion
from rubrics.selectors import with_content


class Command(BaseCommand):
    help = "Write a rubric version as YAML to stdout (default: the published version)."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # `--version N` names a rubric version here; it replaces Django's own --version flag.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--version", dest="number", type=int, help="Version number.")

    def handle(self, *args: Any, slug: str, number: int | None, **options: Any) -> None:
        versions = with_content(RubricVersion.objects.filter(rubric__slug=slug))
        if number is not None:
            version = versions.filter(number=number).first()
        else:
            published = versions.filter(status=RubricVersion.Status.PUBLISHED).first()
            version = published or versions.order_by("-number").first()
        if version is None:
            which = f"version {number} of " if number is not None else ""
            raise CommandError(f"No {which}rubric {slug!r}.")
        self.stdout.write(dump_yaml(version_to_document(version)), ending="")
