from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.actors import system_actor
from core.errors import DomainError
from rubrics.document import load_yaml, parse_document
from rubrics.services import rubric_import


class Command(BaseCommand):
    help = "Import a rubric version from a YAML file (as a draft, or published with --publish)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--publish", action="store_true", help="Publish it (runs the rubric linter)."
        )

    def handle(self, *args: Any, path: Path, publish: bool, **options: Any) -> None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        try:
            data = load_yaml(text)
            parse_document(data)  # a bad file is refused before anything else is touched
            version = rubric_import(actor=system_actor(), data=data, publish=publish)
        except DomainError as exc:
            lines = [f"{path}: {exc.message}"] if not exc.errors else [f"{path} was refused:"]
            for where, messages in exc.errors.items():
                lines.extend(f"  {where}: {message}" for message in messages)
            raise CommandError("\n".join(lines)) from None
        self.stdout.write(
            f"Imported {version.rubric.slug} v{version.number} ({version.get_status_display()})."
        )
